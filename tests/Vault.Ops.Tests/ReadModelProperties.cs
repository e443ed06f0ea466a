using System.Security.Cryptography;
using System.Text.Json;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;
using Vault.Core.Governance;
using Vault.Core.Log;
using Vault.Core.ReadModels;
using Vault.Core.Segments;
using Vault.Core.Sets;
using Vault.Core.Vaults;
using Vault.Services;
using Vault.Services.ReadModels;
using Vault.Storage.Log;
using Vault.Storage.Postgres;
using Vault.Storage.ReadModels;
using Vault.Storage.Segments;
using Vault.Storage.Sqlite;

namespace Vault.Ops.Tests;

/// <summary>
/// The read models equal a full replay of the log after a random history (sets opened, segments recorded, seals with
/// manifests, retention extended, holds placed and released by quorum, deletions requested, approved and executed,
/// refused executions, forged executions appended behind the service's back), sets and requests alike, caught up at random moments in
/// batches of odd sizes, on both backends; a rebuild from scratch gives the same rows; and every deletion executed
/// during the history removed exactly the segments the manifest-reading rule names.
/// </summary>
public sealed class ReadModelProperties : IDisposable
{
    private const string VaultId = "readmodel-vault";
    private readonly TempDir _temp = new();

    public void Dispose() => _temp.Dispose();

    [Property(MaxTest = 2)]
    public Task<bool> on_sqlite_the_read_models_equal_a_replay_after_a_random_history(int seed) => RunAsync(seed, 5_000, postgres: false);

    [Property(MaxTest = 2)]
    public Task<bool> on_postgres_the_read_models_equal_a_replay_after_a_random_history(int seed) => RunAsync(seed, 5_000, postgres: true);

    [Fact]
    public Task ten_thousand_events_on_sqlite() => RunAsync(20261206, 10_000, postgres: false);

    [Fact]
    public Task ten_thousand_events_on_postgres() => RunAsync(61220262, 10_000, postgres: true);

    private async Task<bool> RunAsync(int seed, int events, bool postgres)
    {
        var directory = _temp.Sub($"h{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        var backend = postgres
            ? (Vault.Storage.Log.ILogBackend)await PostgresLogBackend.OpenAsync(Backdoor.PostgresAdmin ?? throw new InvalidOperationException("VAULT_TEST_PG is not set: run the tests with ops/test.sh (README)."),
                "rm_" + Guid.NewGuid().ToString("N")[..16], create: true)
            : await SqliteLogBackend.OpenAsync(Path.Combine(directory, "log.db"), create: true);
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var log = new GroupCommitEventLog(backend, new GroupCommitOptions { Clock = clock });
        var store = new FileSegmentStore(Path.Combine(directory, "segments"));
        await using var models = await log.ReadModels!.OpenReadModelsAsync(CancellationToken.None);
        var history = new History(new Random(seed), log, store, clock);
        await history.GenesisAsync();
        var projector = new ReadModelProjector(log, store, models, batchRecords: 97 + Math.Abs(seed % 400));
        while ((await log.ReadHeadAsync()).Position < events)
        {
            if (history.Random.Next(40) == 0)
                await projector.CatchUpAsync(CancellationToken.None);
            await history.StepAsync();
        }

        await projector.CatchUpAsync(CancellationToken.None);
        Assert.True(history.Executions > 0 && history.Forged > 0 && history.Releases > 0, $"the history is too tame: {history.Executions} executions, {history.Forged} forged, {history.Releases} releases");

        // Sets: the same states, field for field, in the order they were opened.
        var replay = await new BackupSets(log).ListAsync();
        var rows = await models.ListSetsAsync(CancellationToken.None);
        Assert.Equal(replay.Select(s => s.Opened!.SetId), rows.Select(r => r.SetId));
        foreach (var (expected, row) in replay.Zip(rows))
            Assert.Equal(Canonical(expected), Canonical(SetDocument.FromRow(row).State));

        // Segment figures and references, recomputed here from the log and the manifests.
        var recorded = new Dictionary<string, List<SegmentStored>>(StringComparer.Ordinal);
        await foreach (var record in log.ReadAllAsync())
        {
            if (record.EventType == SegmentStored.EventType && EventCodec.Decode(record) is SegmentStored s)
                (recorded.TryGetValue(s.SetId, out var list) ? list : recorded[s.SetId] = []).Add(s);
        }

        var expectedReferences = new List<(string, string)>();
        foreach (var (set, row) in replay.Zip(rows))
        {
            var mine = recorded.GetValueOrDefault(set.Opened!.SetId) ?? [];
            Assert.Equal(mine.Count, row.SegmentsRecorded);
            Assert.Equal(mine.Sum(s => s.StoredBytes), row.StoredBytes);
            IEnumerable<string> references = set.Status switch
            {
                SetStatus.Open => mine.Select(s => s.Hash),
                SetStatus.Sealed => (await SetRestorer.ReadManifestAsync(store, set.Sealed!, CancellationToken.None)).SegmentHashes.Append(set.Sealed!.ManifestHash),
                _ => [],
            };
            expectedReferences.AddRange(references.Distinct().Select(h => (set.Opened.SetId, h)));
        }

        Assert.Equal(expectedReferences.OrderBy(r => r.Item1, StringComparer.Ordinal).ThenBy(r => r.Item2, StringComparer.Ordinal), await models.ListReferencesAsync(CancellationToken.None));

        // Requests: each the state a replay re-proves from its records, in the order of their first records.
        // (A stream holding no valid request record, such as a forged execution alone, is no request: a replay shows it empty, the read model leaves it out.)
        var replayedRequests = (await new DeletionService(log, clock).ListAsync()).Where(v => v.State.Status != DeletionStatus.None).ToList();
        var requestRows = await models.ListRequestsAsync(CancellationToken.None);
        Assert.Equal(replayedRequests.Select(v => v.State.RequestId), requestRows.Select(r => r.RequestId));
        foreach (var (view, row) in replayedRequests.Zip(requestRows))
            Assert.Equal(JsonSerializer.Serialize(view.State, EventCodec.Json), row.StateJson);

        // A rebuild from scratch: the same rows (positions of the last change included) and references.
        var rebuilt = await projector.RebuildAsync(CancellationToken.None);

        Assert.Equal((await log.ReadHeadAsync()).Position, rebuilt.Checkpoint.Position);
        Assert.Equal(rows, await models.ListSetsAsync(CancellationToken.None));
        Assert.Equal(expectedReferences.Count, (await models.ListReferencesAsync(CancellationToken.None)).Count);
        Assert.Equal(requestRows.Select(r => (r.RequestId, r.StateJson, r.OpenedAt)), (await models.ListRequestsAsync(CancellationToken.None)).Select(r => (r.RequestId, r.StateJson, r.OpenedAt)));
        return true;
    }

    private static string Canonical(BackupSetState state) => JsonSerializer.Serialize(state, EventCodec.Json);

    /// <summary>A vault's history, one random step at a time, through the services a real vault uses.</summary>
    private sealed class History(Random random, GroupCommitEventLog log, FileSegmentStore store, FakeTimeProvider clock)
    {
        private readonly Dictionary<string, byte[]> _keys = new(StringComparer.Ordinal);
        private readonly List<string> _pool = [.. Enumerable.Range(0, 300).Select(i => Convert.ToHexStringLower(SHA256.HashData(BitConverter.GetBytes(i))))];
        private readonly Dictionary<string, long> _open = new(StringComparer.Ordinal);
        private readonly List<string> _sealed = [];
        private readonly List<string> _pending = [];
        private int _next;

        public Random Random => random;

        public int Executions { get; private set; }

        public int Forged { get; private set; }

        public int Releases { get; private set; }

        public async Task GenesisAsync()
        {
            foreach (var name in new[] { "alice", "bob", "carol" })
                _keys[name] = Ed25519.CreateKeyPair().PrivateKey;
            var rules = new GovernanceRules([.. _keys.Select(k => new Approver(k.Key, Ed25519.PublicKeyOf(k.Value)))], 2, TimeSpan.FromHours(1));
            await log.AppendAsync(VaultStreams.Vault, ExpectedVersion.NoStream, [new VaultCreated(VaultId, 1, clock.GetUtcNow(), GovernanceDocument.From(rules)).ToEventData("test")]);
        }

        private byte[] Sign(string who, SignedAction action, string subject, IEnumerable<string> targets) =>
            Ed25519.Sign(_keys[who], SigningPayload.For(VaultId, action, subject, SigningPayload.TargetsDigest(targets)));

        private T Pick<T>(IReadOnlyList<T> items) => items[random.Next(items.Count)];

        public async Task StepAsync()
        {
            var r = random.Next(100);
            var now = clock.GetUtcNow();
            try
            {
                switch (r)
                {
                    case < 12:
                        var id = $"set-{_next++}";
                        var labels = Enumerable.Range(0, random.Next(3)).ToDictionary(i => $"k{i}", i => $"v{random.Next(5)}");
                        await log.AppendAsync(SetStreams.Of(id), ExpectedVersion.NoStream, [EventCodec.Encode(new SetOpened(id, $"src{random.Next(4)}", "n", random.Next(2) == 0 ? "tree" : "stream", labels, now), "ingest")]);
                        _open[id] = 0;
                        break;
                    case < 55 when _open.Count > 0:
                        var set = Pick(_open.Keys.ToList());
                        var count = 1 + random.Next(40);
                        var first = _open[set];
                        _open[set] = first + count;
                        await Task.WhenAll(Enumerable.Range(0, count).Select(i => log.AppendAsync(SetStreams.OfSegment(set, first + i), ExpectedVersion.NoStream,
                            [EventCodec.Encode(new SegmentStored(set, first + i, Pick(_pool), 1000, random.Next(2) * 600, random.Next(2) == 0, now), "ingest")])));
                        break;
                    case < 65 when _open.Count > 0:
                        await SealAsync(Pick(_open.Keys.ToList()), now);
                        break;
                    case < 70 when _sealed.Count > 0:
                        var extended = Pick(_sealed);
                        var until = now.AddHours(1 + random.Next(72));
                        await new BackupSets(log).ExtendRetentionAsync(new ExtendRetention(extended, until, "alice", Sign("alice", SignedAction.ExtendRetention, extended, [RetentionExtended.Target(extended, until)])), clock);
                        break;
                    case < 74 when _sealed.Count > 0:
                        var held = Pick(_sealed);
                        var hold = $"h{_next++}";
                        await new BackupSets(log).PlaceHoldAsync(new PlaceHold(held, hold, "case", "bob", Sign("bob", SignedAction.PlaceHold, held, [RequestTargets.Hold(held, hold)])), clock, store: store);
                        if (random.Next(2) == 0)
                        {
                            var release = await RequestAsync([RequestTargets.Hold(held, hold)], RequestKind.ReleaseHold);
                            if (random.Next(4) != 0)
                                await ExecuteAsync(release); // mostly at once (after the delay): about ten releases a history, never none
                        }
                        break;
                    case < 82 when _sealed.Count > 0:
                        await RequestAsync([.. Enumerable.Range(0, 1 + random.Next(2)).Select(_ => Pick(_sealed)).Distinct()], RequestKind.Delete);
                        break;
                    case < 90 when _pending.Count > 0:
                        await ExecuteAsync(Pick(_pending));
                        break;
                    case < 93 when _sealed.Count > 0:
                        // Behind the service's back: an execution nobody approved, on a request stream of its own or an open request's.
                        var forged = _pending.Count > 0 && random.Next(2) == 0 ? _pending[0] : $"forged-{_next++}";
                        await log.AppendAsync(DeletionService.StreamOf(forged), ExpectedVersion.Any,
                            [EventCodec.Encode(new RequestExecuted(forged, [Pick(_sealed)], [Pick(_pool)], now), "mallory")]);
                        Forged++;
                        break;
                    case < 97:
                        clock.Advance(TimeSpan.FromMinutes(random.Next(240)));
                        break;
                    default:
                        break;
                }
            }
            catch (GovernanceRefusedException)
            {
                // A refused step (a hold on a deleted set, an extension on one): the refusal is part of the history when recorded.
            }
        }

        private async Task SealAsync(string setId, DateTimeOffset now)
        {
            var entries = Enumerable.Range(0, 1 + random.Next(5)).Select(i => new ManifestEntry($"f{i}", "file", 420, 0, 1000,
                [.. Enumerable.Range(0, 1 + random.Next(8)).Select(_ => Pick(_pool))])).ToList();
            var manifest = new Manifest(Manifest.CurrentFormat, setId, "tree", entries).ToBytes();
            var hash = SegmentHash.Parse(Convert.ToHexStringLower(SHA256.HashData(manifest)));
            await store.PutAsync(hash, manifest);
            await log.AppendAsync(SetStreams.Of(setId), ExpectedVersion.Exactly(0),
                [EventCodec.Encode(new SetSealed(setId, hash.Hex, manifest.Length, entries.Sum(e => e.Segments!.Count), entries.Count, 1000L * entries.Count, now.AddHours(random.Next(3)), now), "ingest")]);
            _open.Remove(setId);
            _sealed.Add(setId);
        }

        private async Task<string> RequestAsync(IReadOnlyList<string> targets, RequestKind kind)
        {
            var id = $"req-{_next++}";
            var service = new DeletionService(log, clock);
            await service.RequestAsync(new RequestDeletion(id, targets, "cleanup", "alice", Sign("alice", SignedAction.Request, id, targets), kind));
            if (random.Next(6) != 0)
                await service.ApproveAsync(new ApproveDeletion(id, "carol", Sign("carol", SignedAction.Approve, id, targets)));
            _pending.Add(id);
            return id;
        }

        private async Task ExecuteAsync(string requestId)
        {
            var view = await new DeletionService(log, clock).LoadAsync(requestId);
            if (random.Next(2) == 0 || view.State.Kind == RequestKind.ReleaseHold)
                clock.Advance(TimeSpan.FromHours(2));
            var expected = view.State.Kind == RequestKind.Delete ? await ManifestRuleAsync(view.State.Targets) : null;
            try
            {
                await new DeletionExecutor(log, store, clock).ExecuteAsync(requestId, "scheduler", CancellationToken.None);
            }
            catch (GovernanceRefusedException)
            {
                if (random.Next(3) == 0)
                    _pending.Remove(requestId); // given up on: keeps the pending ones fresh, so releases and deletions do execute
                return; // held, retained, not yet approved or cooling off: recorded or not, nothing executed
            }

            _pending.Remove(requestId);
            if ((await new DeletionService(log, clock).LoadAsync(requestId)).Proof.Execution is not { } done)
                return;
            Executions++;
            if (view.State.Kind == RequestKind.ReleaseHold)
                Releases++;
            if (expected is not null && view.Proof.Execution is null) // not when a forged execution already stood for an executable request
                Assert.Equal(expected, done.SegmentsToRemove);
            if (view.State.Kind == RequestKind.Delete)
                _sealed.RemoveAll(done.Targets.Contains);
        }

        /// <summary>The rule as it stood before read models: the targets' manifests, less every other sealed set's and what open sets recorded.</summary>
        private async Task<string[]> ManifestRuleAsync(IReadOnlyList<string> targets)
        {
            var sets = await new BackupSets(log).ListAsync();
            var doomed = new HashSet<string>(StringComparer.Ordinal);
            var kept = new HashSet<string>(StringComparer.Ordinal);
            foreach (var set in sets.Where(s => s.Status == SetStatus.Sealed))
            {
                var manifest = await SetRestorer.ReadManifestAsync(store, set.Sealed!, CancellationToken.None);
                (targets.Contains(set.Sealed!.SetId) ? doomed : kept).UnionWith(manifest.SegmentHashes.Append(set.Sealed.ManifestHash));
            }

            kept.UnionWith(await new BackupSets(log).OpenSetSegmentsAsync(sets));
            doomed.ExceptWith(kept);
            return [.. doomed.Order(StringComparer.Ordinal)];
        }
    }
}
