namespace Rotation.Core;

/// <summary>A segment as the rotation sees it: its hash and the bytes it takes stored (compressed).</summary>
public readonly record struct SegmentRef(string Hash, long StoredBytes);

/// <summary>
/// A sealed set as the rotation needs it: which source it backs up, when it was sealed, its manifest and its segments
/// (distinct, manifest excluded), whether a legal hold keeps it. Built from the vault's log and manifests.
/// </summary>
public sealed record SetInfo(string SetId, string Source, DateTimeOffset SealedAt, SegmentRef Manifest, IReadOnlyList<SegmentRef> Segments, bool Held = false)
{
    public DateOnly SealedOn => DateOnly.FromDateTime(SealedAt.UtcDateTime);
}
