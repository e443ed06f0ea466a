using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace Vault.Ops.Tests;

/// <summary>
/// The Code Spaces drill: an attacker holds one approver's key, the log's file (the service's storage credentials)
/// and the CLI. Whatever they try, every set still restores byte-exact and every attempt is in the verified log.
/// </summary>
public sealed class CodeSpacesDrillTests : IDisposable
{
    private readonly TempDir _temp = new();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 23, 8, 0, 0, TimeSpan.Zero));

    public void Dispose() => _temp.Dispose();

    private Task<CliRun> Run(params string[] args) => CliRun.RunAtAsync(_clock, [.. args, "--vault", _temp.Sub("vault")]);

    [Fact]
    public async Task one_stolen_key_and_the_database_cannot_destroy_any_backup()
    {
        var keys = await TestApprovers.CreateAsync(_temp.Sub("keys"), "alice", "bob", "carol");
        Assert.Equal(0, (await CliRun.RunAtAsync(_clock, ["init", "--vault", _temp.Sub("vault"), .. keys.InitArguments, "--quorum", "3", "--min-retention", "1d"])).ExitCode);
        var sets = new[] { "night-1", "night-2" };
        foreach (var (set, i) in sets.Select((s, i) => (s, i)))
        {
            var source = _temp.Sub("source-" + set);
            Directory.CreateDirectory(source);
            var bytes = new byte[1_500_000];
            new Random(i).NextBytes(bytes);
            await File.WriteAllBytesAsync(Path.Combine(source, "data.bin"), bytes);
            Assert.Equal(0, (await Run("push", source, "--set", set, "--source", "prod")).ExitCode);
        }

        _clock.Advance(TimeSpan.FromDays(2)); // retention has passed: only governance stands in the way
        var attacker = keys.As("alice");
        var request = await Run(["deletion", "request", "--set", "night-1", "--set", "night-2", "--reason", "cleanup", "--id", "del-evil", .. attacker]);
        var selfApprove = await Run(["deletion", "approve", "del-evil", .. attacker]);
        var execute = await Run("deletion", "execute", "del-evil");
        var forged = await Run("deletion", "approve", "del-evil", "--key", keys.KeyFile("bob"), "--password-file", await WrongPasswordAsync());
        var fakeApprover = await TestApprovers.CreateAsync(_temp.Sub("attacker-keys"), "bob");
        var impostor = await Run(["deletion", "approve", "del-evil", .. fakeApprover.As("bob")]);
        var rewrite = TryRewriteLog();
        var mallory = await TestApprovers.CreateAsync(_temp.Sub("mallory-keys"), "mallory");
        var addOwn = await Run(["governance", "propose", "--add-approver", $"mallory={mallory.PublicKeys["mallory"]}", "--reason", "new colleague", "--id", "gov-add", .. attacker]);
        var lowerQuorum = await Run(["governance", "propose", "--quorum", "2", "--reason", "speed up", "--id", "gov-quorum", .. attacker]);
        var shortenRetention = await Run(["governance", "propose", "--min-retention", "1h", "--reason", "save space", "--id", "gov-retention", .. attacker]);
        var soleApprover = await Run(["governance", "propose", "--remove-approver", "bob", "--remove-approver", "carol", "--reason", "x", .. attacker]);
        var applyOwn = await Run("request", "execute", "gov-add");
        var approveOwn = await Run(["request", "approve", "gov-add", .. mallory.As("mallory")]);
        var shortenSet = await Run(["retention", "extend", "night-1", "--until", "2026-11-24", .. attacker]);
        _clock.Advance(TimeSpan.FromDays(30));
        var late = await Run("deletion", "execute", "del-evil");
        var lateGovernance = new List<CliRun>();
        foreach (var id in new[] { "gov-add", "gov-quorum", "gov-retention" })
            lateGovernance.Add(await Run("request", "execute", id));

        Assert.Equal(0, request.ExitCode);
        Assert.Equal(11, selfApprove.ExitCode);
        Assert.Equal(11, execute.ExitCode);
        Assert.Equal(9, forged.ExitCode);
        Assert.Equal(11, impostor.ExitCode);
        Assert.Contains("BadSignature", impostor.Error);
        Assert.Equal(3, rewrite.Count(e => e is SqliteException));
        Assert.Equal(11, late.ExitCode);
        Assert.Contains("Expired", late.Error);
        Assert.Equal([0, 0, 0], new[] { addOwn.ExitCode, lowerQuorum.ExitCode, shortenRetention.ExitCode }); // recorded as requests with one signature
        Assert.Equal(2, soleApprover.ExitCode); // 1 approver for a quorum of 3: not even a valid proposal
        Assert.Equal(11, applyOwn.ExitCode);
        Assert.Contains("NoQuorum", applyOwn.Error);
        Assert.Equal(11, approveOwn.ExitCode);
        Assert.Contains("UnknownApprover", approveOwn.Error);
        Assert.Equal(11, shortenSet.ExitCode);
        Assert.All(lateGovernance, run => Assert.Contains("Expired", run.Error));
        var governance = JsonDocument.Parse((await Run("governance", "show", "--json")).Output).RootElement;
        Assert.Equal(0, governance.GetProperty("rulesVersion").GetInt64());
        Assert.Equal(3, governance.GetProperty("rules").GetProperty("quorum").GetInt32());
        Assert.Equal(["alice", "bob", "carol"], governance.GetProperty("rules").GetProperty("approvers").EnumerateArray().Select(a => a.GetProperty("id").GetString()));
        foreach (var set in sets)
        {
            Assert.Equal(0, (await Run("restore", set, "--to", _temp.Sub("restored-" + set))).ExitCode);
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(_temp.Sub("source-" + set), "data.bin")), await File.ReadAllBytesAsync(Path.Combine(_temp.Sub("restored-" + set), "data.bin")));
        }

        Assert.Equal(0, (await Run("log", "verify")).ExitCode);
        var attempts = JsonDocument.Parse((await Run("deletion", "show", "del-evil", "--json")).Output).RootElement.GetProperty("history")
            .EnumerateArray().Select(e => e.GetProperty("type").GetString()).ToArray();
        Assert.Equal(4, attempts.Count(t => t == "RequestAttemptRefused"));
        Assert.Contains("RequestExpired", attempts);
    }

    private async Task<string> WrongPasswordAsync()
    {
        var path = _temp.Sub("guess");
        await File.WriteAllTextAsync(path, "password123\n");
        return path;
    }

    /// <summary>With the log file in hand but going through SQLite, UPDATE and DELETE are refused by the store itself.</summary>
    private List<Exception> TryRewriteLog()
    {
        var errors = new List<Exception>();
        using var connection = new SqliteConnection($"Data Source={Path.Combine(_temp.Sub("vault"), "log.db")}");
        connection.Open();
        foreach (var sql in new[] { "DELETE FROM events WHERE event_type = 'SetSealed.v1'", "UPDATE events SET payload = x'7b7d' WHERE position = 1", "DELETE FROM events" })
        {
            try
            {
                using var command = new SqliteCommand(sql, connection);
                command.ExecuteNonQuery();
            }
            catch (SqliteException ex)
            {
                errors.Add(ex);
            }
        }

        return errors;
    }
}
