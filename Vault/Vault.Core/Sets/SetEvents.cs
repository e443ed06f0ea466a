namespace Vault.Core.Sets;

/// <summary>A producer opened a backup set on stream <c>set-{SetId}</c>. Kind is "tree" (a directory) or "stream" (stdin).</summary>
public sealed record SetOpened(string SetId, string Source, string Name, string Kind, IReadOnlyDictionary<string, string> Labels, DateTimeOffset At)
{
    public const string EventType = "SetOpened.v1";
}

/// <summary>
/// One segment of a set was verified and is durable in the segment store; on stream <c>set-{SetId}/{Sequence}</c>, so a
/// redelivery cannot record it twice. <see cref="StoredSha256"/>: the SHA-256 of the file this record wrote (the zstd
/// frame as stored), so a scrub can check the stored bytes without decompressing them; absent on a deduplicated
/// segment and on records written before it existed.
/// </summary>
public sealed record SegmentStored(string SetId, long Sequence, string Hash, long Length, long StoredBytes, bool Deduplicated, DateTimeOffset At,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? StoredSha256 = null)
{
    public const string EventType = "SegmentStored.v1";
}

/// <summary>The set is complete: its manifest (itself a stored segment) names every file and segment. Only a sealed set is a backup.</summary>
public sealed record SetSealed(string SetId, string ManifestHash, long ManifestLength, long SegmentCount, long FileCount, long TotalBytes, DateTimeOffset RetainUntil, DateTimeOffset At)
{
    public const string EventType = "SetSealed.v1";
}

/// <summary>One approver lengthened a sealed set's retention; retention is never shortened.</summary>
public sealed record RetentionExtended(string SetId, DateTimeOffset RetainUntil, string ExtendedBy, string Signature, DateTimeOffset At, long? SeenPosition = null, string? SeenHead = null) : Governance.ISignedEvent
{
    public const string EventType = "RetentionExtended.v1";

    /// <summary>What the approver signs as the target: the set and the new date, so a signature cannot extend to another date.</summary>
    public static string Target(string setId, DateTimeOffset retainUntil) => $"{setId}@{retainUntil.ToUnixTimeSeconds()}";
}

public static class SetStreams
{
    public const string Prefix = "set-";

    public static string Of(string setId) => Prefix + setId;

    public static string OfSegment(string setId, long sequence) => $"{Prefix}{setId}/{sequence}";
}

/// <summary>One approver placed a legal hold on a set: no deletion of it can execute until a quorum releases the hold.</summary>
public sealed record LegalHoldPlaced(string SetId, string HoldId, string Reason, string PlacedBy, string Signature, DateTimeOffset At, long? SeenPosition = null, string? SeenHead = null) : Governance.ISignedEvent
{
    public const string EventType = "LegalHoldPlaced.v1";
}

/// <summary>A quorum-approved request (<see cref="RequestId"/>) released the hold.</summary>
public sealed record LegalHoldReleased(string SetId, string HoldId, string RequestId, DateTimeOffset At)
{
    public const string EventType = "LegalHoldReleased.v1";
}
