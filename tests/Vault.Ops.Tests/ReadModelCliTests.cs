using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Vault.Ops.Tests;

/// <summary>
/// The read models from the operator's side: 'sets list' reads them; 'read-models verify' names a row someone
/// changed behind the vault's back and 'rebuild' puts it right; read models folded from another log are noticed by
/// their chain hash and rebuilt instead of being shown.
/// </summary>
public sealed class ReadModelCliTests : IDisposable
{
    private readonly TempDir _temp = new();

    public void Dispose() => _temp.Dispose();

    private async Task<string> VaultWithSetsAsync(string name, params string[] sets)
    {
        var vault = _temp.Sub(name);
        var team = await TestApprovers.CreateAsync(_temp.Sub(name + "-keys"));
        Assert.Equal(0, (await CliRun.RunAsync(["init", "--vault", vault, .. team.InitArguments])).ExitCode);
        var source = _temp.Sub(name + "-src");
        Directory.CreateDirectory(source);
        foreach (var set in sets)
        {
            await File.WriteAllTextAsync(Path.Combine(source, "f.txt"), "contents of " + set);
            var push = await CliRun.RunAsync("push", source, "--set", set, "--source", "web", "--vault", vault);
            Assert.True(push.ExitCode == 0, push.Error);
        }

        return vault;
    }

    private static async Task<string[]> ListedAsync(string vault)
    {
        var list = await CliRun.RunAsync("sets", "list", "--json", "--vault", vault);
        Assert.True(list.ExitCode == 0, list.Error);
        return [.. JsonDocument.Parse(list.Output).RootElement.EnumerateArray().Select(s => s.GetProperty("setId").GetString()!)];
    }

    [Fact]
    public async Task verify_names_a_row_changed_behind_the_vaults_back_and_rebuild_puts_it_right()
    {
        var vault = await VaultWithSetsAsync("v", "monday", "tuesday");
        Assert.Equal(["monday", "tuesday"], await ListedAsync(vault));
        var status = await CliRun.RunAsync("read-models", "status", "--json", "--vault", vault);
        var s = JsonDocument.Parse(status.Output).RootElement;
        Assert.Equal(s.GetProperty("head").GetInt64(), s.GetProperty("position").GetInt64());
        Assert.Equal(2, s.GetProperty("sets").GetInt32());
        Assert.Equal(0, (await CliRun.RunAsync("read-models", "verify", "--vault", vault)).ExitCode);

        await using (var db = new SqliteConnection($"Data Source={Path.Combine(vault, "log.db.read")};Pooling=False"))
        {
            await db.OpenAsync();
            await using var tamper = db.CreateCommand();
            tamper.CommandText = "UPDATE sets SET status = 3, deleted_by = 'nobody' WHERE set_id = 'monday'; DELETE FROM refs WHERE set_id = 'tuesday';";
            await tamper.ExecuteNonQueryAsync();
        }

        var verify = await CliRun.RunAsync("read-models", "verify", "--vault", vault);
        Assert.Equal(10, verify.ExitCode);
        Assert.Contains("set monday: the read models say Deleted", verify.Output);
        Assert.Contains("set tuesday: the read models give 0 segment references", verify.Output);

        var rebuild = await CliRun.RunAsync("read-models", "rebuild", "--vault", vault);
        Assert.True(rebuild.ExitCode == 0, rebuild.Error);
        Assert.Equal(0, (await CliRun.RunAsync("read-models", "verify", "--vault", vault)).ExitCode);
    }

    [Fact]
    public async Task read_models_folded_from_another_log_are_rebuilt_not_shown()
    {
        // The other log is shorter: its checkpoint position exists here too, and only the chain hash tells them apart.
        var first = await VaultWithSetsAsync("a", "alpha-1");
        var second = await VaultWithSetsAsync("b", "beta-1", "beta-2", "beta-3");
        Assert.Equal(["alpha-1"], await ListedAsync(first));
        File.Copy(Path.Combine(first, "log.db.read"), Path.Combine(second, "log.db.read"), overwrite: true);
        foreach (var suffix in new[] { "-wal", "-shm" })
            File.Delete(Path.Combine(second, "log.db.read" + suffix));

        Assert.Equal(["beta-1", "beta-2", "beta-3"], await ListedAsync(second));
        Assert.Equal(0, (await CliRun.RunAsync("read-models", "verify", "--vault", second)).ExitCode);
    }
}
