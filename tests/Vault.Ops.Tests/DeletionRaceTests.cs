using Microsoft.Extensions.Time.Testing;
using Vault.Core.Log;
using Vault.Core.Segments;
using Vault.Core.Sets;
using Vault.Services;
using Vault.Storage.Log;
using Vault.Storage.Segments;
using Vault.Storage.Sqlite;

namespace Vault.Ops.Tests;

/// <summary>
/// A deletion runs while a push is under way: segments an open set already recorded are never removed, and the
/// removal waits for the removals lock that seals and hold placements hold, so neither can interleave with it.
/// </summary>
public sealed class DeletionRaceTests : IDisposable
{
    private readonly TempDir _temp = new();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 23, 8, 0, 0, TimeSpan.Zero));
    private TestApprovers _team = null!;

    public void Dispose() => _temp.Dispose();

    private string Vault => _temp.Sub("vault");

    private Task<CliRun> Run(params string[] args) => CliRun.RunAtAsync(_clock, [.. args, "--vault", Vault]);

    private async Task<string> SetUpDeletionOfS1Async()
    {
        _team = await TestApprovers.CreateAsync(_temp.Sub("keys"));
        Assert.Equal(0, (await CliRun.RunAtAsync(_clock, ["init", "--vault", Vault, .. _team.InitArguments, "--cooling-off", "1h", "--min-retention", "1h"])).ExitCode);
        Directory.CreateDirectory(_temp.Sub("src"));
        await File.WriteAllTextAsync(Path.Combine(_temp.Sub("src"), "a.txt"), "shared bytes");
        Assert.Equal(0, (await Run("push", _temp.Sub("src"), "--set", "s1", "--source", "web")).ExitCode);
        Assert.Equal(0, (await Run(["deletion", "request", "--set", "s1", "--reason", "old", "--id", "del-s1", .. _team.As("alice")])).ExitCode);
        Assert.Equal(0, (await Run(["request", "approve", "del-s1", .. _team.As("bob")])).ExitCode);
        _clock.Advance(TimeSpan.FromHours(2));
        await using var log = await OpenLogAsync();
        var manifest = await new SetRestorer(log, Store).ManifestAsync("s1", CancellationToken.None);
        return manifest.SegmentHashes.Single();
    }

    private FileSegmentStore Store => new(VaultOpener.SegmentsDirectory(Vault));

    private async Task<GroupCommitEventLog> OpenLogAsync() => new(await SqliteLogBackend.OpenAsync(Path.Combine(Vault, VaultOpener.SqliteFile), create: false));

    [Fact]
    public async Task a_segment_an_open_set_already_recorded_survives_the_deletion_of_the_sealed_set_that_shared_it()
    {
        var shared = await SetUpDeletionOfS1Async();
        await using (var log = await OpenLogAsync())
        {
            // As the ingest service records a push under way: s2 opened, its first segment deduplicated against s1's.
            var at = _clock.GetUtcNow();
            await log.AppendAsync(SetStreams.Of("s2"), ExpectedVersion.NoStream, [EventCodec.Encode(new SetOpened("s2", "web", "n", "tree", new Dictionary<string, string>(), at), "ingest")]);
            await log.AppendAsync(SetStreams.OfSegment("s2", 0), ExpectedVersion.NoStream, [EventCodec.Encode(new SegmentStored("s2", 0, shared, 12, 0, true, at), "ingest")]);
        }

        var execute = await Run("request", "execute", "del-s1");

        Assert.True(execute.ExitCode == 0, execute.Error);
        Assert.True(await Store.ContainsAsync(SegmentHash.Parse(shared)), "the open set's segment was removed");
        Assert.Equal(0, (await Run("log", "verify")).ExitCode);
    }

    [Fact]
    public async Task a_removal_waits_while_a_seal_or_hold_holds_the_removals_lock()
    {
        var only = await SetUpDeletionOfS1Async();
        var held = await Store.LockRemovalsAsync();

        var execute = Run("request", "execute", "del-s1");
        await Task.Delay(TimeSpan.FromSeconds(1));
        var waited = !execute.IsCompleted && await Store.ContainsAsync(SegmentHash.Parse(only));
        await held.DisposeAsync();
        var result = await execute.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(waited, "the execution did not wait for the removals lock");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.False(await Store.ContainsAsync(SegmentHash.Parse(only)));
    }
}
