using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace Vault.Ops.Tests;

/// <summary>Executing a deletion on a fake clock: refused while cooling off and under retention, then exactly the unshared segments go.</summary>
public sealed class ExecutionCliTests : IDisposable
{
    private readonly TempDir _temp = new();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 23, 8, 0, 0, TimeSpan.Zero));

    public void Dispose() => _temp.Dispose();

    private Task<CliRun> Run(params string[] args) => CliRun.RunAtAsync(_clock, [.. args, "--vault", _temp.Sub("vault")]);

    [Fact]
    public async Task a_quorum_approved_deletion_waits_for_cooling_off_and_retention_then_removes_only_unshared_segments()
    {
        var keys = await TestApprovers.CreateAsync(_temp.Sub("keys"), "alice", "bob", "carol");
        Assert.Equal(0, (await CliRun.RunAtAsync(_clock, ["init", "--vault", _temp.Sub("vault"), .. keys.InitArguments, "--min-retention", "7d"])).ExitCode);
        var shared = new byte[2_000_000];
        new Random(1).NextBytes(shared);
        var only = new byte[2_000_000];
        new Random(2).NextBytes(only);
        Directory.CreateDirectory(_temp.Sub("night1"));
        Directory.CreateDirectory(_temp.Sub("night2"));
        await File.WriteAllBytesAsync(Path.Combine(_temp.Sub("night1"), "shared.bin"), shared);
        await File.WriteAllBytesAsync(Path.Combine(_temp.Sub("night1"), "only-in-1.bin"), only);
        await File.WriteAllBytesAsync(Path.Combine(_temp.Sub("night2"), "shared.bin"), shared);
        Assert.Equal(0, (await Run("push", _temp.Sub("night1"), "--set", "night-1", "--source", "web")).ExitCode);
        Assert.Equal(0, (await Run("push", _temp.Sub("night2"), "--set", "night-2", "--source", "web")).ExitCode);
        var segmentsBefore = Directory.GetFiles(Path.Combine(_temp.Sub("vault"), "segments"), "*.zst", SearchOption.AllDirectories).Length;

        Assert.Equal(0, (await Run(["deletion", "request", "--set", "night-1", "--reason", "test", "--id", "del-1", .. keys.As("alice")])).ExitCode);
        Assert.Equal(0, (await Run(["deletion", "approve", "del-1", .. keys.As("bob")])).ExitCode);
        var early = await Run("deletion", "execute", "del-1");
        _clock.Advance(TimeSpan.FromHours(72));
        var retained = await Run("deletion", "execute", "del-1");
        _clock.Advance(TimeSpan.FromDays(4));
        var executed = await Run("deletion", "execute", "del-1", "--json");
        var again = await Run("deletion", "execute", "del-1", "--json");

        Assert.Equal(11, early.ExitCode);
        Assert.Contains("CoolingOff", early.Error);
        Assert.Equal(11, retained.ExitCode);
        Assert.Contains("RetentionLocked", retained.Error);
        Assert.True(executed.ExitCode == 0, executed.Error);
        var removed = JsonDocument.Parse(executed.Output).RootElement.GetProperty("segmentsRemoved").GetArrayLength();
        Assert.True(removed >= 2, $"{removed} segments removed"); // only-in-1.bin's segment(s) and night-1's manifest
        Assert.Equal(segmentsBefore - removed, Directory.GetFiles(Path.Combine(_temp.Sub("vault"), "segments"), "*.zst", SearchOption.AllDirectories).Length);
        Assert.Equal(0, JsonDocument.Parse(again.Output).RootElement.GetProperty("segmentsRemoved").GetArrayLength());
        Assert.Equal(7, (await Run("restore", "night-1", "--to", _temp.Sub("r1"))).ExitCode);
        Assert.Equal(0, (await Run("restore", "night-2", "--to", _temp.Sub("r2"))).ExitCode);
        Assert.Equal(shared, await File.ReadAllBytesAsync(Path.Combine(_temp.Sub("r2"), "shared.bin")));
        Assert.Contains("deleted", (await Run("sets", "list")).Output);
        Assert.Equal(0, (await Run("log", "verify")).ExitCode);
    }

    [Fact]
    public async Task an_extended_retention_holds_off_execution_until_the_new_date_and_cannot_be_shortened()
    {
        var keys = await TestApprovers.CreateAsync(_temp.Sub("keys"), "alice", "bob", "carol");
        Assert.Equal(0, (await CliRun.RunAtAsync(_clock, ["init", "--vault", _temp.Sub("vault"), .. keys.InitArguments, "--min-retention", "1d"])).ExitCode);
        Directory.CreateDirectory(_temp.Sub("night1"));
        await File.WriteAllTextAsync(Path.Combine(_temp.Sub("night1"), "f.txt"), "keep me");
        Assert.Equal(0, (await Run("push", _temp.Sub("night1"), "--set", "night-1", "--source", "web")).ExitCode);

        var extend = await Run(["retention", "extend", "night-1", "--until", "2027-01-31", .. keys.As("carol")]);
        var shorten = await Run(["retention", "extend", "night-1", "--until", "2026-12-31", .. keys.As("alice")]);
        Assert.Equal(0, (await Run(["deletion", "request", "--set", "night-1", "--reason", "test", "--id", "del-1", .. keys.As("alice")])).ExitCode);
        Assert.Equal(0, (await Run(["deletion", "approve", "del-1", .. keys.As("bob")])).ExitCode);
        _clock.Advance(TimeSpan.FromDays(10));
        var blocked = await Run("deletion", "execute", "del-1");
        _clock.SetUtcNow(new DateTimeOffset(2027, 1, 31, 0, 0, 1, TimeSpan.Zero));
        var executed = await Run("deletion", "execute", "del-1");

        Assert.True(extend.ExitCode == 0, extend.Error);
        Assert.Equal(11, shorten.ExitCode);
        Assert.Contains("never shortened", shorten.Error);
        Assert.Equal(11, blocked.ExitCode);
        Assert.Contains("retained until 2027-01-31", blocked.Error);
        Assert.True(executed.ExitCode == 0, executed.Error);
    }

    [Fact]
    public async Task a_request_naming_a_set_that_does_not_exist_is_refused_before_anything_is_signed()
    {
        var keys = await TestApprovers.CreateAsync(_temp.Sub("keys"), "alice", "bob");
        Assert.Equal(0, (await CliRun.RunAtAsync(_clock, ["init", "--vault", _temp.Sub("vault"), .. keys.InitArguments])).ExitCode);

        var run = await Run(["deletion", "request", "--set", "no-such-set", "--reason", "x", .. keys.As("alice")]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("not a sealed set", run.Error);
        Assert.Contains("(no requests)", (await Run("deletion", "list")).Output);
    }

    /// <summary>
    /// Logs written before requests had their own names ("Deletion*.v1" for every kind, "segmentsRemoved") are read
    /// as they are: the same deletion, written with the old names, is re-proved, counted deleted, and verifies.
    /// </summary>
    [Fact]
    public async Task a_log_written_with_the_first_event_names_is_still_proved_and_verifies()
    {
        var keys = await TestApprovers.CreateAsync(_temp.Sub("keys"), "alice", "bob");
        Assert.Equal(0, (await CliRun.RunAtAsync(_clock, ["init", "--vault", _temp.Sub("vault"), .. keys.InitArguments, "--min-retention", "1d"])).ExitCode);
        Directory.CreateDirectory(_temp.Sub("night1"));
        await File.WriteAllBytesAsync(Path.Combine(_temp.Sub("night1"), "a.bin"), new byte[100_000]);
        Assert.Equal(0, (await Run("push", _temp.Sub("night1"), "--set", "night-1", "--source", "web")).ExitCode);
        Assert.Equal(0, (await Run(["deletion", "request", "--set", "night-1", "--reason", "test", "--id", "del-1", .. keys.As("alice")])).ExitCode);
        Assert.Equal(0, (await Run(["deletion", "approve", "del-1", .. keys.As("bob")])).ExitCode);
        _clock.Advance(TimeSpan.FromDays(4));
        Assert.Equal(0, (await Run("deletion", "execute", "del-1")).ExitCode);

        var backdoor = new Backdoor(_temp.Sub("vault"), null);
        var written = await backdoor.ReadAsync();
        Assert.Contains(written, r => r.EventType == "RequestOpened.v1");
        Assert.Contains(written, r => r.EventType == "RequestExecuted.v1" && System.Text.Encoding.UTF8.GetString(r.Payload).Contains("\"segmentsToRemove\""));
        // From bob's approval on (what no signature witnessed yet: renaming earlier records would change the heads
        // the signers saw), as the first vaults wrote them.
        var approval = written.Single(r => r.EventType == "RequestApproved.v1").Position;
        await backdoor.RewriteAsync(records => [.. records.Select(r => r.Position >= approval && r.EventType.StartsWith("Request", StringComparison.Ordinal)
            ? r with
            {
                EventType = "Deletion" + r.EventType["Request".Length..],
                Payload = System.Text.Encoding.UTF8.GetBytes(System.Text.Encoding.UTF8.GetString(r.Payload).Replace("\"segmentsToRemove\"", "\"segmentsRemoved\"")),
            }
            : r)]);

        var old = await backdoor.ReadAsync();
        Assert.Contains(old, r => r.EventType == "DeletionExecuted.v1" && System.Text.Encoding.UTF8.GetString(r.Payload).Contains("\"segmentsRemoved\""));
        Assert.Contains(old, r => r.EventType == "DeletionApproved.v1");
        Assert.Contains(old, r => r.EventType == "DeletionQuorumReached.v1");
        var sets = await Run("sets", "list", "--json");
        Assert.Equal("deleted", JsonDocument.Parse(sets.Output).RootElement[0].GetProperty("state").GetString());
        var audit = await Run("audit", "requests", "--json");
        Assert.True(audit.ExitCode == 0, audit.Output + audit.Error);
        Assert.Contains("del-1", audit.Output);
        var verify = await Run("log", "verify", "--chain-only");
        Assert.True(verify.ExitCode == 0, verify.Output);
        var meaning = await Run("log", "verify", "--json");
        Assert.DoesNotContain("is not an event type", meaning.Output);
        Assert.Empty(JsonDocument.Parse(meaning.Output).RootElement.GetProperty("findings").EnumerateArray());
    }

    [Fact]
    public void every_first_name_of_a_request_event_decodes_to_the_event_it_names_now()
    {
        var at = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        object[] events =
        [
            new Vault.Core.Governance.RequestOpened("r-1", ["s"], "d", "why", "alice", "sig", at),
            new Vault.Core.Governance.RequestApproved("r-1", "bob", "sig", at),
            new Vault.Core.Governance.RequestQuorumReached("r-1", ["alice", "bob"], at, at),
            new Vault.Core.Governance.RequestVetoed("r-1", "carol", "no", "sig", at),
            new Vault.Core.Governance.RequestExpired("r-1", at),
            new Vault.Core.Governance.RequestAttemptRefused("r-1", "mallory", "execute", Vault.Core.Governance.RefusalCode.NoQuorum, "no", at),
        ];
        foreach (var e in events)
        {
            var data = Vault.Services.EventCodec.Encode(e, "test");
            var legacy = "Deletion" + data.EventType["Request".Length..].Replace("Opened", "Requested");
            var record = new Vault.Core.Log.EventRecord(1, "deletion-r-1", 0, legacy, data.Payload, data.Metadata, at, [], []);
            Assert.Equal(JsonSerializer.Serialize(e, e.GetType()), JsonSerializer.Serialize(Vault.Services.EventCodec.Decode(record), e.GetType()));
        }

        var executed = new Vault.Core.Log.EventRecord(1, "deletion-r-1", 0, "DeletionExecuted.v1",
            """{"requestId":"r-1","targets":["s"],"segmentsRemoved":["h1","h2"],"at":"2026-01-01T00:00:00+00:00"}"""u8.ToArray(), "{}"u8.ToArray(), at, [], []);
        Assert.Equal(["h1", "h2"], Assert.IsType<Vault.Core.Governance.RequestExecuted>(Vault.Services.EventCodec.Decode(executed)).SegmentsToRemove);
    }
}
