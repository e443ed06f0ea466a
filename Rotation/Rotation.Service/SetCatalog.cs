using Rotation.Core;
using Vault.Core.Segments;
using Vault.Core.Sets;
using Vault.Services;
using Vault.Services.ReadModels;
using Vault.Storage;
using Vault.Storage.Segments;

namespace Rotation.Service;

/// <summary>The vault's sealed sets as the rotation needs them: source, seal time, manifest and segments with their stored sizes, holds.</summary>
public static class SetCatalog
{
    /// <summary>
    /// Every sealed set from a replay of the log, each with the segments its manifest names: what a nightly run, a drill
    /// and a site-loss report act on. O(history): it reads every manifest.
    /// </summary>
    public static async Task<IReadOnlyList<SetInfo>> BuildAsync(IEventLog log, FileSegmentStore store, CancellationToken ct)
    {
        var sets = new List<SetInfo>();
        foreach (var set in (await new BackupSets(log).ListAsync(ct)).Where(s => s.Status == SetStatus.Sealed).OrderBy(s => s.Sealed!.At))
            sets.Add(await WithSegmentsAsync(store, Shallow(set), ct));
        return sets;
    }

    /// <summary>
    /// The sets a plan for <paramref name="date"/> reads: those sealed within the policy's window before it (the
    /// longest keep: nothing older is written or warned about) and every set under a legal hold (a medium holding one
    /// is not recycled), with source, seal time and holds from the read models (caught up first; a replay where the
    /// vault keeps none); and the segments only of the sets a pool writes on that date, read from their manifests on
    /// every core. Sets no pool writes that day carry no segments and a manifest size of 0. For showing a plan only:
    /// a run erases and writes by <see cref="BuildAsync"/>, from the log.
    /// </summary>
    public static async Task<IReadOnlyList<SetInfo>> ForPlanAsync(IEventLog log, FileSegmentStore store, RotationState state, DateOnly date, CancellationToken ct)
    {
        var from = new DateTimeOffset(date.AddDays(-state.Policy!.WindowDays - 1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var to = new DateTimeOffset(date.AddDays(2).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var sets = (await ReadModelAccess.ListSealedSetsAsync(log, store, from, to, ct))
            .Select(r => new SetInfo(r.SetId, r.Source, r.SealedAt, new SegmentRef(r.ManifestHash, 0), [], r.Held))
            .ToList();
        var written = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pool in state.Policy.Pools.Where(p => p.Schedule.Matches(date)))
            written.UnionWith(Planner.Content(state, sets, pool, date).Sets.Select(s => s.SetId));
        // The manifests of the sets written that day, read on every core (a monthly full reads one per set in its keep).
        var indexes = Enumerable.Range(0, sets.Count).Where(i => written.Contains(sets[i].SetId)).ToArray();
        var lengths = new System.Collections.Concurrent.ConcurrentDictionary<string, long>(StringComparer.Ordinal); // sets share most segments
        await Parallel.ForEachAsync(indexes, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = ct },
            async (i, token) => sets[i] = await WithSegmentsAsync(store, sets[i], token, lengths));
        return sets;
    }

    private static SetInfo Shallow(BackupSetState set) =>
        new(set.Sealed!.SetId, set.Opened!.Source, set.Sealed.At, new SegmentRef(set.Sealed.ManifestHash, 0), [], set.Holds.Count > 0);

    private static async Task<SetInfo> WithSegmentsAsync(FileSegmentStore store, SetInfo set, CancellationToken ct, System.Collections.Concurrent.ConcurrentDictionary<string, long>? lengths = null)
    {
        long StoredLength(string h)
        {
            if (lengths is not null && lengths.TryGetValue(h, out var known))
                return known;
            var length = store.StoredLength(SegmentHash.Parse(h))
                ?? throw new SegmentNotFoundException($"Segment {h} of set {set.SetId} is missing from the vault's store; run 'vault log verify' and restore it from media.");
            if (lengths is not null)
                lengths[h] = length;
            return length;
        }

        var manifestHash = SegmentHash.Parse(set.Manifest.Hash);
        var manifest = Manifest.Parse(await store.ReadAsync(manifestHash, ct));
        var segments = manifest.SegmentHashes.Distinct(StringComparer.Ordinal)
            .Select(h => new SegmentRef(h, StoredLength(h)))
            .ToArray();
        return set with { Manifest = new SegmentRef(set.Manifest.Hash, store.StoredLength(manifestHash)!.Value), Segments = segments };
    }
}
