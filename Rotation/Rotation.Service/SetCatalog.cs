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
    /// The sets a plan for <paramref name="date"/> shows: every sealed set's source, seal time and holds from the read
    /// models (caught up first; a replay where the vault keeps none), and the segments only of the sets a pool writes on
    /// that date, read from their manifests. Sets no pool writes that day carry no segments and a manifest size of 0.
    /// For showing a plan only: a run erases and writes by <see cref="BuildAsync"/>, from the log.
    /// </summary>
    public static async Task<IReadOnlyList<SetInfo>> ForPlanAsync(IEventLog log, FileSegmentStore store, RotationState state, DateOnly date, CancellationToken ct)
    {
        var sets = (await ReadModelAccess.ListSetsAsync(log, store, ct))
            .Where(d => d.State.Status == SetStatus.Sealed)
            .Select(d => Shallow(d.State))
            .OrderBy(s => s.SealedAt).ThenBy(s => s.SetId, StringComparer.Ordinal)
            .ToList();
        var written = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pool in state.Policy!.Pools.Where(p => p.Schedule.Matches(date)))
            written.UnionWith(Planner.Content(state, sets, pool, date).Sets.Select(s => s.SetId));
        for (var i = 0; i < sets.Count; i++)
        {
            if (written.Contains(sets[i].SetId))
                sets[i] = await WithSegmentsAsync(store, sets[i], ct);
        }

        return sets;
    }

    private static SetInfo Shallow(BackupSetState set) =>
        new(set.Sealed!.SetId, set.Opened!.Source, set.Sealed.At, new SegmentRef(set.Sealed.ManifestHash, 0), [], set.Holds.Count > 0);

    private static async Task<SetInfo> WithSegmentsAsync(FileSegmentStore store, SetInfo set, CancellationToken ct)
    {
        var manifestHash = SegmentHash.Parse(set.Manifest.Hash);
        var manifest = Manifest.Parse(await store.ReadAsync(manifestHash, ct));
        var segments = manifest.SegmentHashes.Distinct(StringComparer.Ordinal)
            .Select(h => new SegmentRef(h, store.StoredLength(SegmentHash.Parse(h)) ?? throw new SegmentNotFoundException($"Segment {h} of set {set.SetId} is missing from the vault's store; run 'vault log verify' and restore it from media.")))
            .ToArray();
        return set with { Manifest = new SegmentRef(set.Manifest.Hash, store.StoredLength(manifestHash)!.Value), Segments = segments };
    }
}
