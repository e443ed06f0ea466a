using System.Text.Json;
using Microsoft.Data.Sqlite;
using Vault.Core.Log;
using Vault.Core.Vaults;
using Vault.Storage.Log;
using Vault.Storage.Sqlite;

namespace Vault.Ops.Tests;

public sealed class InitAndVerifyTests : IDisposable
{
    private readonly TempDir _temp = new();
    private TestApprovers? _approvers;

    public void Dispose() => _temp.Dispose();

    private async Task<CliRun> Init(params string[] args)
    {
        _approvers ??= await TestApprovers.CreateAsync(_temp.Sub("keys"));
        return await CliRun.RunAsync([.. args, .. _approvers.InitArguments]);
    }

    [Fact]
    public async Task init_creates_a_vault_whose_log_verifies_and_reports_in_json()
    {
        var vault = _temp.Sub("v");

        var init = await Init("init", "--vault", vault, "--json");
        var verify = await CliRun.RunAsync("log", "verify", "--vault", vault, "--json");

        Assert.Equal(0, init.ExitCode);
        var created = JsonDocument.Parse(init.Output).RootElement;
        Assert.Equal(0, verify.ExitCode);
        var report = JsonDocument.Parse(verify.Output).RootElement;
        Assert.True(report.GetProperty("intact").GetBoolean());
        Assert.Equal(1, report.GetProperty("checked").GetInt64());
        Assert.Equal(created.GetProperty("genesis").GetProperty("hash").GetString(), report.GetProperty("head").GetProperty("hash").GetString());
        Assert.Equal(created.GetProperty("vaultId").GetString(), report.GetProperty("vaultId").GetString());
    }

    [Fact]
    public async Task the_vault_can_be_named_by_environment_variable()
    {
        var env = new Dictionary<string, string> { ["VAULT_DIR"] = _temp.Sub("env") };

        Assert.Equal(0, (await CliRun.RunWithAsync(env, ["init", .. (_approvers ??= await TestApprovers.CreateAsync(_temp.Sub("keys"))).InitArguments])).ExitCode);
        var tail = await CliRun.RunWithAsync(env, "log", "tail", "--json");

        Assert.Equal(0, tail.ExitCode);
        var records = JsonDocument.Parse(tail.Output).RootElement;
        Assert.Equal(VaultCreated.EventType, records[0].GetProperty("eventType").GetString());
        Assert.Equal(VaultStreams.Vault, records[0].GetProperty("streamId").GetString());
    }

    [Fact]
    public async Task init_over_an_existing_vault_exits_4_and_changes_nothing()
    {
        var vault = _temp.Sub("v");
        await Init("init", "--vault", vault);
        var manifest = await File.ReadAllTextAsync(Path.Combine(vault, "vault.json"));

        var again = await Init("init", "--vault", vault);

        Assert.Equal(4, again.ExitCode);
        Assert.Contains("already a vault", again.Error);
        Assert.Equal(manifest, await File.ReadAllTextAsync(Path.Combine(vault, "vault.json")));
        var verify = await CliRun.RunAsync("log", "verify", "--vault", vault, "--json");
        Assert.Equal(1, JsonDocument.Parse(verify.Output).RootElement.GetProperty("checked").GetInt64());
    }

    [Fact]
    public async Task init_refuses_a_non_empty_directory_and_leaves_its_files_alone()
    {
        var dir = _temp.Sub("busy");
        Directory.CreateDirectory(dir);
        await File.WriteAllTextAsync(Path.Combine(dir, "notes.txt"), "mine");

        var run = await Init("init", "--vault", dir);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("not empty", run.Error);
        Assert.Equal(["notes.txt"], Directory.GetFiles(dir).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("empty")]
    public async Task a_directory_that_is_not_a_vault_exits_3_with_a_sentence_saying_how_to_make_one(string kind)
    {
        var dir = _temp.Sub(kind);
        if (kind == "empty")
            Directory.CreateDirectory(dir);

        var run = await CliRun.RunAsync("log", "verify", "--vault", dir);

        Assert.Equal(3, run.ExitCode);
        Assert.Contains("vault init", run.Error);
        run.AssertNoStackTrace();
    }

    [Fact]
    public async Task a_corrupt_log_file_exits_6_without_a_stack_trace()
    {
        var vault = _temp.Sub("v");
        await Init("init", "--vault", vault);
        await File.WriteAllBytesAsync(Path.Combine(vault, "log.db"), Enumerable.Range(0, 8192).Select(i => (byte)(i * 7)).ToArray());
        File.Delete(Path.Combine(vault, "log.db-wal"));

        var run = await CliRun.RunAsync("log", "tail", "--vault", vault);

        Assert.Equal(6, run.ExitCode);
        Assert.Contains("damaged", run.Error);
        run.AssertNoStackTrace();
    }

    [Fact]
    public async Task a_bad_flag_exits_2_and_points_at_help()
    {
        var run = await CliRun.RunAsync("log", "verify", "--frobnicate");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--frobnicate", run.Error);
        Assert.Contains("vault log verify --help", run.Error);
    }

    [Fact]
    public async Task a_malformed_trusted_head_exits_2()
    {
        var vault = _temp.Sub("v");
        await Init("init", "--vault", vault);

        var run = await CliRun.RunAsync("log", "verify", "--vault", vault, "--expect-head", "12:nothex");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("POSITION:HASH", run.Error);
    }

    [Fact]
    public async Task verify_exits_10_naming_the_first_bad_position_of_a_tampered_log()
    {
        var vault = _temp.Sub("v");
        await Init("init", "--vault", vault);
        await AppendAsync(vault, 20);
        await ExecuteBehindAsync(vault, "DROP TRIGGER events_no_update; UPDATE events SET event_type = 'Forged' WHERE position = 12;");

        var run = await CliRun.RunAsync("log", "verify", "--vault", vault);
        var json = await CliRun.RunAsync("log", "verify", "--vault", vault, "--json");

        Assert.Equal(10, run.ExitCode);
        Assert.Contains("BROKEN at position 12 (altered)", run.Output);
        Assert.Equal(10, json.ExitCode);
        var violation = JsonDocument.Parse(json.Output).RootElement.GetProperty("violation");
        Assert.Equal(12, violation.GetProperty("position").GetInt64());
        Assert.Equal("Altered", violation.GetProperty("kind").GetString());
    }

    [Fact]
    public async Task records_cut_from_the_end_exit_10_against_an_expected_head()
    {
        var vault = _temp.Sub("v");
        await Init("init", "--vault", vault);
        await AppendAsync(vault, 5);
        var before = JsonDocument.Parse((await CliRun.RunAsync("log", "verify", "--vault", vault, "--json")).Output).RootElement.GetProperty("head");
        var trusted = $"{before.GetProperty("position").GetInt64()}:{before.GetProperty("hash").GetString()}";
        await ExecuteBehindAsync(vault, "DROP TRIGGER events_no_delete; DELETE FROM events WHERE position = 6;");

        Assert.Equal(0, (await CliRun.RunAsync("log", "verify", "--vault", vault, "--chain-only")).ExitCode);
        var run = await CliRun.RunAsync("log", "verify", "--vault", vault, "--chain-only", "--expect-head", trusted);

        Assert.Equal(10, run.ExitCode);
        Assert.Contains("BROKEN at position 6 (missing)", run.Output);
    }

    [Fact]
    public async Task a_log_rebuilt_from_genesis_with_a_valid_chain_is_caught_by_the_recorded_genesis_hash()
    {
        var vault = _temp.Sub("v");
        await Init("init", "--vault", vault);
        var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(vault, "vault.json"))).RootElement;
        var forgedPath = _temp.Sub("forged.db");
        await using (var forged = new GroupCommitEventLog(await SqliteLogBackend.OpenAsync(forgedPath, create: true)))
        {
            var genesis = new VaultCreated(manifest.GetProperty("vaultId").GetString()!, 1, DateTimeOffset.UnixEpoch, Vault.Core.Governance.GovernanceDocument.From(new Keys().Rules(2)));
            await forged.AppendAsync(VaultStreams.Vault, ExpectedVersion.NoStream, [genesis.ToEventData("attacker")]);
        }

        SqliteLogBackend.ReleasePools(Path.Combine(vault, "log.db"));
        SqliteLogBackend.ReleasePools(forgedPath); // its last connection closed: the forged log's WAL is folded into the file copied
        File.Copy(forgedPath, Path.Combine(vault, "log.db"), overwrite: true);
        File.Delete(Path.Combine(vault, "log.db-wal"));
        var run = await CliRun.RunAsync("log", "verify", "--vault", vault);

        Assert.Equal(10, run.ExitCode);
        Assert.Contains("BROKEN at position 1", run.Output);
        Assert.Contains("genesis hash", run.Output);
    }

    private static async Task AppendAsync(string vault, int count)
    {
        await using var log = new GroupCommitEventLog(await SqliteLogBackend.OpenAsync(Path.Combine(vault, "log.db"), create: false));
        for (var i = 0; i < count; i++)
            await log.AppendAsync($"set-{i % 3}", ExpectedVersion.Any, [new EventData("TestHappened", System.Text.Encoding.UTF8.GetBytes($"{{\"i\":{i}}}"))]);
    }

    private static async Task ExecuteBehindAsync(string vault, string sql)
    {
        SqliteLogBackend.ReleasePools(Path.Combine(vault, "log.db"));
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(vault, "log.db")};Pooling=False");
        await connection.OpenAsync();
        await using var command = new SqliteCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
