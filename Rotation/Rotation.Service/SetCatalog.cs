using Rotation.Core;
using Vault.Core.Segments;
using Vault.Core.Sets;
using Vault.Services;
using Vault.Storage;
using Vault.Storage.Segments;

namespace Rotation.Service;

/// <summary>The vault's sealed sets as the rotation needs them: source, seal time, manifest and segments with their stored sizes, holds.</summary>
public static class SetCatalog
{
    public static async Task<IReadOnlyList<SetInfo>> BuildAsync(IEventLog log, FileSegmentStore store, CancellationToken ct)
    {
        var sets = new List<SetInfo>();
        foreach (var set in (await new BackupSets(log).ListAsync(ct)).Where(s => s.Status == SetStatus.Sealed).OrderBy(s => s.Sealed!.At))
        {
            var sealedSet = set.Sealed!;
            var manifestHash = SegmentHash.Parse(sealedSet.ManifestHash);
            var manifest = Manifest.Parse(await store.ReadAsync(manifestHash, ct));
            var segments = manifest.SegmentHashes.Distinct(StringComparer.Ordinal)
                .Select(h => new SegmentRef(h, store.StoredLength(SegmentHash.Parse(h)) ?? throw new SegmentNotFoundException($"Segment {h} of set {sealedSet.SetId} is missing from the vault's store; run 'vault log verify' and restore it from media.")))
                .ToArray();
            sets.Add(new SetInfo(sealedSet.SetId, set.Opened!.Source, sealedSet.At, new SegmentRef(sealedSet.ManifestHash, store.StoredLength(manifestHash)!.Value), segments, set.Holds.Count > 0));
        }

        return sets;
    }
}
