using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Vault.Ops.Tests;

/// <summary>
/// vault audit export, re-verified the way an outside auditor would: by ops/audit-verify.py, Python's standard
/// library and docs alone — no code of ours. The Python computes chain hashes and RFC 9162 roots independently, so
/// agreement checks the vault's own encoder and tree as well.
/// </summary>
public sealed class AuditExportTests : IDisposable
{
    private readonly TempDir _temp = new();

    public void Dispose() => _temp.Dispose();

    private string Vault => _temp.Sub("vault");

    private Task<CliRun> Run(params string[] args) => CliRun.RunAsync([.. args, "--vault", Vault]);

    private async Task HistoryAsync()
    {
        var keys = await TestApprovers.CreateAsync(_temp.Sub("keys"));
        Assert.Equal(0, (await keys.InitAsync(Vault)).ExitCode);
        Directory.CreateDirectory(_temp.Sub("src"));
        for (var night = 0; night < 3; night++)
        {
            await File.WriteAllTextAsync(_temp.Sub("src/notes.txt"), $"night {night}: ünïcödé + \"quotes\" and <tags>\n");
            Assert.Equal(0, (await Run("push", _temp.Sub("src"), "--set", $"n{night}", "--source", "web", "--no-cache")).ExitCode);
            Assert.Equal(0, (await Run("log", "checkpoint")).ExitCode);
        }
    }

    private static async Task<(int Code, string Output)> PythonAsync(string file)
    {
        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(RepoRoot(), "ops", "audit-verify.py"));
        start.ArgumentList.Add(file);
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output + error);
    }

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Vault.sln")))
            dir = dir.Parent;
        return dir!.FullName;
    }

    [Fact]
    public async Task an_export_re_verifies_with_python_alone_and_its_roots_agree_with_the_checkpoints()
    {
        await HistoryAsync();

        var export = await Run("audit", "export", "--out", _temp.Sub("export.jsonl"));
        var python = await PythonAsync(_temp.Sub("export.jsonl"));

        Assert.True(export.ExitCode == 0, export.Error);
        Assert.True(python.Code == 0, python.Output);
        Assert.Contains("chain and hashes hold, 3 checkpoints agree, Merkle root", python.Output);
        var lines = await File.ReadAllLinesAsync(_temp.Sub("export.jsonl"));
        var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(Vault, "vault.json"))).RootElement;
        Assert.Equal(manifest.GetProperty("genesisHash").GetString(), JsonDocument.Parse(lines[0]).RootElement.GetProperty("genesisHash").GetString());
        var verify = await Run("log", "verify", "--json");
        Assert.Equal(JsonDocument.Parse(verify.Output).RootElement.GetProperty("head").GetProperty("hash").GetString(), JsonDocument.Parse(lines[^1]).RootElement.GetProperty("headHash").GetString());
    }

    [Theory]
    [InlineData("payload")]
    [InlineData("drop")]
    [InlineData("checkpoint-root")]
    public async Task an_export_altered_after_it_left_is_refused_by_the_python_check_naming_the_record(string alteration)
    {
        await HistoryAsync();
        Assert.Equal(0, (await Run("audit", "export", "--out", _temp.Sub("export.jsonl"))).ExitCode);
        var lines = (await File.ReadAllLinesAsync(_temp.Sub("export.jsonl"))).ToList();
        var index = lines.FindIndex(l => l.Contains("\"SetSealed.v1\"", StringComparison.Ordinal));
        switch (alteration)
        {
            case "payload":
                var record = JsonNode.Parse(lines[index])!;
                var payload = Encoding.UTF8.GetString(Convert.FromBase64String(record["payload"]!.GetValue<string>())).Replace("\"n0\"", "\"n9\"", StringComparison.Ordinal);
                record["payload"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(payload));
                lines[index] = record.ToJsonString();
                break;
            case "drop":
                lines.RemoveAt(index);
                break;
            default:
                index = lines.FindIndex(l => l.Contains("\"Checkpoint.v1\"", StringComparison.Ordinal));
                var checkpoint = JsonNode.Parse(lines[index])!;
                var c = JsonNode.Parse(Convert.FromBase64String(checkpoint["payload"]!.GetValue<string>()))!;
                c["merkleRoot"] = new string('0', 64);
                checkpoint["payload"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(c.ToJsonString()));
                lines[index] = checkpoint.ToJsonString();
                break;
        }

        await File.WriteAllLinesAsync(_temp.Sub("altered.jsonl"), lines);
        var python = await PythonAsync(_temp.Sub("altered.jsonl"));

        Assert.Equal(1, python.Code);
        var position = JsonDocument.Parse(File.ReadAllLines(_temp.Sub("export.jsonl"))[index]).RootElement.GetProperty("position").GetInt64();
        Assert.Contains($"record {position}", python.Output);
    }

    [Fact]
    public async Task an_export_never_overwrites_and_a_bad_range_is_a_clear_error()
    {
        await HistoryAsync();
        await File.WriteAllTextAsync(_temp.Sub("taken.jsonl"), "mine");

        var taken = await Run("audit", "export", "--out", _temp.Sub("taken.jsonl"));
        var range = await Run("audit", "export", "--from", "100000");

        Assert.Equal(2, taken.ExitCode);
        Assert.Contains("never overwrites", taken.Error);
        Assert.Equal("mine", await File.ReadAllTextAsync(_temp.Sub("taken.jsonl")));
        Assert.Equal(2, range.ExitCode);
        Assert.Contains("--from 100000 is past", range.Error);
        taken.AssertNoStackTrace();
    }

    [Fact]
    public async Task proofs_against_the_checkpoints_hold_and_a_changed_proof_or_root_does_not()
    {
        await HistoryAsync();
        var checkpoints = (await File.ReadAllLinesAsync(await ExportAsync()))
            .Where(l => l.Contains("\"Checkpoint.v1\"", StringComparison.Ordinal))
            .Select(l => JsonDocument.Parse(Convert.FromBase64String(JsonDocument.Parse(l).RootElement.GetProperty("payload").GetString()!)).RootElement.GetProperty("position").GetInt64())
            .ToArray();
        Assert.Equal(3, checkpoints.Length);

        var inclusion = await Run("audit", "prove", "2");
        var consistency = await Run("audit", "prove", "--consistency", checkpoints[0].ToString(System.Globalization.CultureInfo.InvariantCulture), checkpoints[2].ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(inclusion.ExitCode == 0, inclusion.Error);
        Assert.True(consistency.ExitCode == 0, consistency.Error);
        await File.WriteAllTextAsync(_temp.Sub("inclusion.json"), inclusion.Output);
        await File.WriteAllTextAsync(_temp.Sub("consistency.json"), consistency.Output);
        Assert.Equal(checkpoints[0], JsonDocument.Parse(inclusion.Output).RootElement.GetProperty("treeSize").GetInt64()); // the first checkpoint covering record 2

        Assert.Equal(0, (await CliRun.RunAsync("audit", "check-proof", _temp.Sub("inclusion.json"))).ExitCode);
        Assert.Equal(0, (await CliRun.RunAsync("audit", "check-proof", _temp.Sub("consistency.json"))).ExitCode);
        var node = JsonNode.Parse(inclusion.Output)!;
        node["position"] = 3;
        await File.WriteAllTextAsync(_temp.Sub("moved.json"), node.ToJsonString());
        var forged = JsonNode.Parse(consistency.Output)!;
        forged["secondRoot"] = new string('a', 64);
        await File.WriteAllTextAsync(_temp.Sub("forged.json"), forged.ToJsonString());
        var moved = await CliRun.RunAsync("audit", "check-proof", _temp.Sub("moved.json"));
        var wrongRoot = await CliRun.RunAsync("audit", "check-proof", _temp.Sub("forged.json"));
        var notAProof = await CliRun.RunAsync("audit", "check-proof", _temp.Sub("export.jsonl"));
        Assert.Equal(10, moved.ExitCode);
        Assert.Contains("DOES NOT HOLD", moved.Output);
        Assert.Equal(10, wrongRoot.ExitCode);
        Assert.Equal(2, notAProof.ExitCode);
        notAProof.AssertNoStackTrace();
    }

    [Fact]
    public async Task a_proof_is_made_from_the_block_cache_and_a_damaged_cache_still_gives_a_proof_that_holds()
    {
        Assert.Equal(0, (await CliRun.RunAsync(["init", "--vault", Vault, .. (await TestApprovers.CreateAsync(_temp.Sub("keys"), "alice", "bob")).InitArguments])).ExitCode);
        var source = _temp.Sub("many");
        Directory.CreateDirectory(source);
        for (var i = 0; i < 2_200; i++)
            await File.WriteAllTextAsync(Path.Combine(source, $"f{i:D4}.txt"), $"file {i}\n");
        Assert.Equal(0, (await Run("push", source, "--set", "many", "--source", "web", "--no-cache")).ExitCode);
        Assert.Equal(0, (await Run("log", "checkpoint")).ExitCode);
        var cache = Path.Combine(Vault, "merkle-blocks.bin");

        var first = await Run("audit", "prove", "1500");
        Assert.True(first.ExitCode == 0, first.Error);
        Assert.Equal(2 * 32, new FileInfo(cache).Length); // two complete blocks of 1,024 records
        var bytes = await File.ReadAllBytesAsync(cache);
        bytes[5] ^= 0xFF;
        bytes[40] ^= 0xFF;
        await File.WriteAllBytesAsync(cache, bytes);
        var damaged = await Run("audit", "prove", "100");
        Assert.True(damaged.ExitCode == 0, damaged.Error);
        await File.WriteAllTextAsync(_temp.Sub("p1.json"), first.Output);
        await File.WriteAllTextAsync(_temp.Sub("p2.json"), damaged.Output);
        Assert.Equal(0, (await CliRun.RunAsync("audit", "check-proof", _temp.Sub("p1.json"))).ExitCode);
        Assert.Equal(0, (await CliRun.RunAsync("audit", "check-proof", _temp.Sub("p2.json"))).ExitCode);
        Assert.False(File.Exists(cache) && (await File.ReadAllBytesAsync(cache)).AsSpan().SequenceEqual(bytes), "the damaged cache was dropped");
    }

    private async Task<string> ExportAsync()
    {
        Assert.Equal(0, (await Run("audit", "export", "--out", _temp.Sub("export.jsonl"))).ExitCode);
        return _temp.Sub("export.jsonl");
    }
}
