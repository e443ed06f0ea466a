namespace Rotation.Core;

/// <summary>Every change to media, sites and drills is one of these, on stream "rotation" of the vault's log.</summary>
public interface IRotationEvent
{
    DateOnly Date { get; }
}

/// <summary>
/// The policy in force from <see cref="Date"/>. One that loosens the policy before it names the approved rotation
/// request that allowed it (<see cref="RequestId"/>); replay applies it only when that request is re-proved.
/// </summary>
public sealed record RotationConfigured(RotationPolicy Policy, DateOnly Date,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? RequestId = null) : IRotationEvent
{
    public const string EventType = "RotationConfigured.v1";
}

/// <summary>A new medium joined a pool, blank, at a site.</summary>
public sealed record MediumLabeled(string Label, string Pool, long Capacity, int MaxPasses, string Site, DateOnly Date) : IRotationEvent
{
    public const string EventType = "MediumLabeled.v1";
}

/// <summary>A blank medium was loaded and tonight's write started on it; <see cref="MediaWritten"/> follows when it is complete.</summary>
public sealed record MediumLoaded(string Label, string WriteId, int SpanIndex, DateOnly Date) : IRotationEvent
{
    public const string EventType = "MediumLoaded.v1";
}

/// <summary>A medium of a write, as written: its place in the span, bytes used and the SHA-256 of its image file.</summary>
public sealed record WrittenMedium(string Label, int SpanIndex, long Bytes, string ImageSha256);

/// <summary>A medium as one write left it: a copy that needs it is valid only while the medium still holds that write.</summary>
public sealed record MediumRef(string Label, string WriteId);

/// <summary>One set copied by a write, and every medium its restore needs (this write's, plus earlier ones of the chain for an incremental).</summary>
public sealed record SetCopy(string SetId, string Source, DateTimeOffset SealedAt, IReadOnlyList<MediumRef> Requires);

/// <summary>A segment written by a write, and the medium it went to.</summary>
public sealed record SegmentPlacement(string Hash, string Label);

/// <summary>
/// One night's write of a pool: the media used (spanning in order), the sets copied and where each segment went.
/// The media are full (closed) at the drive's site afterwards, kept until <see cref="RetainUntil"/>.
/// </summary>
public sealed record MediaWritten(
    string WriteId, string Pool, BackupKind Kind, DateOnly Date, DateOnly RetainUntil, string Site,
    IReadOnlyList<WrittenMedium> Media, IReadOnlyList<SetCopy> Sets, IReadOnlyList<SegmentPlacement> Segments) : IRotationEvent
{
    public const string EventType = "MediaWritten.v1";
}

/// <summary>A medium leaves a site; one brought home from off site while still needed names the approved request (<see cref="RequestId"/>).</summary>
public sealed record MediumShipped(string Label, string From, string To, DateOnly Date, DateOnly ArrivesBy,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? RequestId = null) : IRotationEvent
{
    public const string EventType = "MediumShipped.v1";
}

public sealed record MediumReceived(string Label, string Site, DateOnly Date) : IRotationEvent
{
    public const string EventType = "MediumReceived.v1";
}

/// <summary>Nothing on the medium is needed any more (its retention and that of every copy relying on it have passed).</summary>
public sealed record MediumExpired(string Label, DateOnly Date) : IRotationEvent
{
    public const string EventType = "MediumExpired.v1";
}

/// <summary>The medium's image was erased; it is ready for its next pass.</summary>
public sealed record MediumRecycled(string Label, DateOnly Date, string Reason) : IRotationEvent
{
    public const string EventType = "MediumRecycled.v1";
}

public sealed record MediumRetired(string Label, DateOnly Date, string Reason) : IRotationEvent
{
    public const string EventType = "MediumRetired.v1";
}

/// <summary>A medium is gone; one still needed names the approved request (<see cref="RequestId"/>).</summary>
public sealed record MediumLost(string Label, DateOnly Date, string Reason,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? RequestId = null) : IRotationEvent
{
    public const string EventType = "MediumLost.v1";
}

/// <summary>The result of a site-loss drill: what survived, what did not, the recovery point per source, and whether a restore was carried out.</summary>
public sealed record DrillRecorded(
    string Site, DateOnly Date, string? KeyLost, int SetsRestorable, int SetsLost, IReadOnlyDictionary<string, DrillSource> Sources,
    bool Executed, int SetsRestored, long BytesRestored, IReadOnlyList<string> Failures) : IRotationEvent
{
    public const string EventType = "DrillRecorded.v1";
}

/// <summary>One source in a drill: its newest restorable set and how old it was at the drill's date.</summary>
public sealed record DrillSource(string? NewestRestorableSet, DateTimeOffset? SealedAt, double? RecoveryPointHours);
