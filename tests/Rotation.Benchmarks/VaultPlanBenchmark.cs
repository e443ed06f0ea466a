using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Rotation.Core;
using Rotation.Service;
using Vault.Core.Governance;
using Vault.Core.Log;
using Vault.Core.Segments;
using Vault.Core.Sets;
using Vault.Core.Vaults;
using Vault.Services;
using Vault.Storage;
using Vault.Storage.Log;
using Vault.Storage.Segments;
using Vault.Storage.Sqlite;

/// <summary>
/// Planning a day against a real (SQLite) vault holding N years of nightly sets and the rotation history the simulator
/// recorded for them: the log, the store and the read models as 'vault rotation plan' finds them. Not a test: nothing
/// here passes or fails. ROTATION_BENCH_DIR=DIR keeps the generated vault and reuses it on the next run.
/// </summary>
public static class VaultPlanBenchmark
{
    private const string VaultId = "0123456789abcdef0123456789abcdef";

    public static async Task RunAsync(int years, int runs)
    {
        var keep = Environment.GetEnvironmentVariable("ROTATION_BENCH_DIR");
        var reuse = keep is not null && File.Exists(Path.Combine(keep, "log.db"));
        var dir = keep ?? Directory.CreateTempSubdirectory("vault-bench-plan-").FullName;
        Directory.CreateDirectory(dir);
        var days = years * 365 + years / 4;
        var start = new DateOnly(2016, 1, 4);
        var clock = new SettableClock(new DateTimeOffset(start.AddDays(-2).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero));
        await using var log = new GroupCommitEventLog(await SqliteLogBackend.OpenAsync(Path.Combine(dir, "log.db"), create: !reuse), new GroupCommitOptions { Clock = clock });
        var store = new FileSegmentStore(Path.Combine(dir, "segments"));
        if (!reuse)
        {
            await GenerateAsync(log, store, clock, start, days);
            await foreach (var genesis in log.ReadAllAsync(1))
            {
                // So the CLI opens it too: dotnet artifacts/vault/vault.dll rotation plan --vault DIR --date DATE
                new VaultManifest(VaultManifest.CurrentFormat, VaultId, genesis.RecordedAt, new LogLocation(LogLocation.Sqlite, File: "log.db"), Convert.ToHexStringLower(genesis.Hash)).Write(dir);
                break;
            }
        }
        var head = await log.ReadHeadAsync();
        var next = start.AddDays(days);
        while (next.DayOfWeek != DayOfWeek.Sunday)
            next = next.AddDays(1); // a Sunday: the weekly (and on the first Sunday the monthly) full is planned too
        clock.Set(new DateTimeOffset(next.ToDateTime(new TimeOnly(12, 0)), TimeSpan.Zero));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"vault plan benchmark: {years} years ({days} days), {head.Position:N0} records, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd}; planning {next:yyyy-MM-dd}"));

        var service = new RotationService(dir, log, store, VaultId, clock);
        var plan = await service.PlanAsync(next, CancellationToken.None); // warm-up, and the read models caught up
        Console.WriteLine($"plan: {plan.Writes.Count} writes ({string.Join(", ", plan.Writes.Select(w => $"{w.Pool}: {w.Sets.Count} sets, {w.Segments} segments"))}), {plan.Shipments.Count} shipments, {plan.Recalls.Count} recalls, {plan.Warnings.Count} warnings");
        var loaded = await service.LoadAsync(null, CancellationToken.None);
        Console.WriteLine($"rotation state: {loaded.State.Media.Count} media, {loaded.Findings.Count} records not proved{string.Concat(loaded.Findings.Take(3).Select(f => "; " + f.Detail))}");
        var shown = (await service.LoadForShowingAsync(CancellationToken.None)).State;
        var catalog = await SetCatalog.ForPlanAsync(log, store, shown, next, CancellationToken.None);
        Report("plan one day, whole (vault rotation plan in process)", runs, async () => (await service.PlanAsync(next, CancellationToken.None)).Writes.Count);
        Report("  the rotation from its cached fold (media inventory)", runs, async () => (await service.LoadForShowingAsync(CancellationToken.None)).State.Media.Count);
        Report("  the sets the planner reads (window, holds, manifests)", runs, async () => (await SetCatalog.ForPlanAsync(log, store, shown, next, CancellationToken.None)).Count);
        Report("  the planner itself", runs, async () => { await Task.CompletedTask; return Planner.Plan(shown, catalog, next).Writes.Count; });
        Report("the rotation from a replay of its stream (before)", runs, async () => (await service.LoadAsync(null, CancellationToken.None)).State.Media.Count);
        Report("the sets from the log and every manifest (before)", Math.Min(runs, 3), async () => (await SetCatalog.BuildAsync(log, store, CancellationToken.None)).Count);
        Console.WriteLine($"vault directory: {dir}");
        if (keep is null)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// The simulator's history written into a real vault: each set opened, its new segments stored (each segment's bytes
    /// are its simulated name, so the hash is real) and sealed with a manifest naming all of them; then each night's
    /// rotation records, stamped with that night's date.
    /// </summary>
    private static async Task GenerateAsync(GroupCommitEventLog log, FileSegmentStore store, SettableClock clock, DateOnly start, int days)
    {
        var started = Stopwatch.GetTimestamp();
        await log.AppendAsync(VaultStreams.Vault, ExpectedVersion.NoStream, [new VaultCreated(VaultId, 1, clock.GetUtcNow(), GovernanceDocument.From(new GovernanceRules([new Approver("alice", Ed25519.CreateKeyPair().PublicKey), new Approver("bob", Ed25519.CreateKeyPair().PublicKey)], 2, TimeSpan.FromHours(1)))).ToEventData("bench")]);
        var events = new List<IRotationEvent>();
        IReadOnlyList<SetInfo> sets = [];
        Simulator.Run(RotationPolicy.Default(), new SimulationOptions(start, days, Sources: 3, SegmentsPerSet: 40), (_, _, all, _) => sets = all, events.Add);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var rotationVersion = -1L;
        var byDay = events.GroupBy(e => e.Date).ToDictionary(g => g.Key, g => g.ToList());
        var setsByDay = sets.GroupBy(s => s.SealedOn).ToDictionary(g => g.Key, g => g.ToList());
        for (var date = start.AddDays(-1); date < start.AddDays(days); date = date.AddDays(1))
        {
            foreach (var set in setsByDay.GetValueOrDefault(date) ?? [])
            {
                clock.Set(set.SealedAt);
                var hashes = set.Segments.Select(s => Hex(s.Hash)).ToArray();
                var stored = new List<EventData> { EventCodec.Encode(new SetOpened(set.SetId, set.Source, set.SetId, "tree", new Dictionary<string, string>(), set.SealedAt), "ingest") };
                var sequence = 0;
                foreach (var segment in set.Segments.Where(s => seen.Add(s.Hash)))
                {
                    var bytes = Encoding.UTF8.GetBytes(segment.Hash);
                    var put = await store.PutAsync(SegmentHash.Parse(Hex(segment.Hash)), bytes);
                    stored.Add(EventCodec.Encode(new SegmentStored(set.SetId, sequence++, Hex(segment.Hash), bytes.Length, put.StoredBytes, false, set.SealedAt), "ingest"));
                }

                var manifest = new Manifest(Manifest.CurrentFormat, set.SetId, "tree", [.. hashes.Select((h, n) => new ManifestEntry($"file-{n}", "file", 420, 0, 1, [h]))]).ToBytes();
                var manifestHash = SegmentHash.Parse(Convert.ToHexStringLower(SHA256.HashData(manifest)));
                await store.PutAsync(manifestHash, manifest);
                await log.AppendAsync(SetStreams.Of(set.SetId), ExpectedVersion.NoStream, [stored[0]]);
                for (var i = 1; i < stored.Count; i++)
                    await log.AppendAsync(SetStreams.OfSegment(set.SetId, i - 1), ExpectedVersion.NoStream, [stored[i]]);
                await log.AppendAsync(SetStreams.Of(set.SetId), ExpectedVersion.Exactly(0),
                    [EventCodec.Encode(new SetSealed(set.SetId, manifestHash.Hex, manifest.Length, hashes.Length, hashes.Length, hashes.Length, set.SealedAt, set.SealedAt), "ingest")]);
            }

            if (byDay.GetValueOrDefault(date) is { Count: > 0 } nightly)
            {
                clock.Set(new DateTimeOffset(date.ToDateTime(new TimeOnly(22, 0)), TimeSpan.Zero));
                await log.AppendAsync(RotationJournal.Stream, rotationVersion < 0 ? ExpectedVersion.NoStream : ExpectedVersion.Exactly(rotationVersion), [.. nightly.Select(e => RotationJournal.Encode(e, "bench"))]);
                rotationVersion += nightly.Count;
            }

            if (date.Day == 1 && date.Month == 1)
                Console.Error.WriteLine($"  generated up to {date:yyyy-MM-dd} ({Stopwatch.GetElapsedTime(started).TotalSeconds:N0} s)");
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"generated {sets.Count:N0} sealed sets, {seen.Count:N0} segments, {events.Count:N0} rotation records in {Stopwatch.GetElapsedTime(started).TotalSeconds:N1} s"));
    }

    private static string Hex(string simulated) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(simulated)));

    private static void Report(string name, int runs, Func<Task<int>> work)
    {
        var ms = new List<double>();
        var result = 0;
        GC.Collect(); // what the stage before left behind is not this stage's cost
        for (var i = 0; i < runs; i++)
        {
            var started = Stopwatch.GetTimestamp();
            result = work().GetAwaiter().GetResult();
            ms.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        ms.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name,-56} min {ms[0],8:N1} ms  median {ms[ms.Count / 2],8:N1} ms  max {ms[^1],8:N1} ms  ({runs} runs; result {result:N0})"));
    }

    private sealed class SettableClock(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset _now = start;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Set(DateTimeOffset to) => _now = to > _now ? to : _now;
    }
}
