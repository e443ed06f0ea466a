using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Vault.Core.Governance;
using Vault.Core.Log;
using Vault.Core.Segments;
using Vault.Core.Sets;
using Vault.Core.Vaults;
using Vault.Services;
using Vault.Services.ReadModels;
using Vault.Storage;
using Vault.Storage.Log;
using Vault.Storage.Segments;
using Vault.Storage.Sqlite;

/// <summary>
/// Read models against replays, on a generated SQLite vault (docs/benchmarks.md, "Read models"): listing every set,
/// and executing one approved deletion, each both ways in the same run. Not a test: nothing here passes or fails.
/// </summary>
public static class ReadModelBenchmark
{
    private const string VaultId = "0123456789abcdef0123456789abcdef";

    public static async Task RunAsync(int sets, int runs)
    {
        // READMODEL_BENCH_DIR=DIR keeps the generated vault there and reuses it on the next run (listing only then).
        var keep = Environment.GetEnvironmentVariable("READMODEL_BENCH_DIR");
        var reuse = keep is not null && File.Exists(Path.Combine(keep, "log.db"));
        var dir = keep ?? Directory.CreateTempSubdirectory("vault-bench-readmodels-").FullName;
        Directory.CreateDirectory(dir);
        var clock = new ManualClock(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var (alice, bob) = (Ed25519.CreateKeyPair(), Ed25519.CreateKeyPair());
        var rules = new GovernanceRules([new Approver("alice", alice.PublicKey), new Approver("bob", bob.PublicKey)], 2, TimeSpan.FromHours(1));
        await using var log = new GroupCommitEventLog(await SqliteLogBackend.OpenAsync(Path.Combine(dir, "log.db"), create: true), new GroupCommitOptions { Clock = clock });
        var store = new FileSegmentStore(Path.Combine(dir, "segments"));
        if (reuse)
        {
            Report("list every set, read models (caught up first)", runs, async () => (await ReadModelAccess.ListSetsAsync(log, store, CancellationToken.None)).Count);
            await using var models = (await ReadModelAccess.OpenAsync(log, store, CancellationToken.None))!.Store;
            Report("  of which: the rows alone", runs, async () => (await models.ListSetsAsync(CancellationToken.None)).Count);
            return;
        }

        await log.AppendAsync(VaultStreams.Vault, ExpectedVersion.NoStream, [new VaultCreated(VaultId, 1, clock.GetUtcNow(), GovernanceDocument.From(rules)).ToEventData("bench")]);

        // Each set: opened, 8 segments recorded (a pool of 20,000, so sets share), sealed with its own manifest naming them.
        var started = Stopwatch.GetTimestamp();
        var random = new Random(7);
        const int inFlight = 64;
        for (var first = 0; first < sets; first += inFlight)
        {
            await Task.WhenAll(Enumerable.Range(first, Math.Min(inFlight, sets - first)).Select(async i =>
            {
                var id = $"night-{i:D6}";
                var hashes = Enumerable.Range(0, 8).Select(_ => Convert.ToHexStringLower(SHA256.HashData(BitConverter.GetBytes(random.Next(20_000))))).ToArray();
                var now = clock.GetUtcNow();
                await log.AppendAsync(SetStreams.Of(id), ExpectedVersion.NoStream, [EventCodec.Encode(new SetOpened(id, "web", id, "tree", new Dictionary<string, string> { ["host"] = "web-1" }, now), "ingest")]);
                await Task.WhenAll(hashes.Select((h, seq) => log.AppendAsync(SetStreams.OfSegment(id, seq), ExpectedVersion.NoStream, [EventCodec.Encode(new SegmentStored(id, seq, h, 4 << 20, 1 << 20, false, now), "ingest")])));
                var manifest = new Manifest(Manifest.CurrentFormat, id, "tree", [.. hashes.Select((h, n) => new ManifestEntry($"file-{n}", "file", 420, 0, 4 << 20, [h]))]).ToBytes();
                var manifestHash = SegmentHash.Parse(Convert.ToHexStringLower(SHA256.HashData(manifest)));
                await store.PutAsync(manifestHash, manifest);
                await log.AppendAsync(SetStreams.Of(id), ExpectedVersion.Exactly(0), [EventCodec.Encode(new SetSealed(id, manifestHash.Hex, manifest.Length, 8, 8, 32L << 20, now, now), "ingest")]);
            }));
            clock.Advance(TimeSpan.FromMinutes(10));
        }

        var head = await log.ReadHeadAsync();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"generated {sets:N0} sealed sets ({head.Position:N0} records) in {Stopwatch.GetElapsedTime(started).TotalSeconds:N1} s"));

        var projector = (await ReadModelAccess.OpenAsync(log, store, CancellationToken.None))!;
        var rebuild = await projector.RebuildAsync(CancellationToken.None);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"read models built from {rebuild.Applied:N0} records in {rebuild.Elapsed.TotalSeconds:N2} s"));

        Report("list every set, read models (caught up first)", runs, async () => (await ReadModelAccess.ListSetsAsync(log, store, CancellationToken.None)).Count);
        Report("list every set, replay of the log (before)", runs, async () => (await new BackupSets(log).ListAsync()).Count);

        // Deletions: one set each, requested and approved, the delay passed; then executed one way or the other.
        var targets = Enumerable.Range(0, 2 * runs).Select(i => $"night-{i * (sets / (2 * runs)):D6}").ToArray();
        var deletions = new DeletionService(log, clock);
        foreach (var (target, n) in targets.Select((t, n) => (t, n)))
        {
            var id = $"del-{n}";
            string[] t = [target];
            await deletions.RequestAsync(new RequestDeletion(id, t, "bench", "alice", Ed25519.Sign(alice.PrivateKey, SigningPayload.For(VaultId, SignedAction.Request, id, SigningPayload.TargetsDigest(t)))));
            await deletions.ApproveAsync(new ApproveDeletion(id, "bob", Ed25519.Sign(bob.PrivateKey, SigningPayload.For(VaultId, SignedAction.Approve, id, SigningPayload.TargetsDigest(t)))));
        }

        clock.Advance(TimeSpan.FromHours(2));
        await projector.CatchUpAsync(CancellationToken.None); // as 'vault serve' keeps them
        var next = 0;
        Report("execute one deletion, segment references read model", runs, async () =>
        {
            var result = await new DeletionExecutor(log, store, clock).ExecuteAsync($"del-{next++}", "bench", CancellationToken.None);
            return result.SegmentsRemoved.Count;
        });
        Report("execute one deletion, every manifest read (before)", runs, async () =>
        {
            var result = await new DeletionExecutor(log, store, clock) { UseReadModels = false }.ExecuteAsync($"del-{next++}", "bench", CancellationToken.None);
            return result.SegmentsRemoved.Count;
        });
        await projector.Store.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (keep is null)
            Directory.Delete(dir, recursive: true);
    }

    private static void Report(string name, int runs, Func<Task<int>> work)
    {
        var seconds = new List<double>();
        var result = 0;
        for (var i = 0; i < runs; i++)
        {
            var started = Stopwatch.GetTimestamp();
            result = work().GetAwaiter().GetResult();
            seconds.Add(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }

        seconds.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name,-56} min {seconds[0],7:N3} s  median {seconds[seconds.Count / 2],7:N3} s  max {seconds[^1],7:N3} s  ({runs} runs; result {result:N0})"));
    }
}
