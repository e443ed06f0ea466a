namespace Vault.Core.Governance;

/// <summary>The events of one deletion request's stream, past tense, with a version in the stored type name.</summary>
public interface IRequestEvent
{
    string RequestId { get; }
    DateTimeOffset At { get; }
}

/// <summary>A record carrying an approver's signature and, since signatures witness history, the log head they saw.</summary>
public interface ISignedEvent
{
    string Signature { get; }
    long? SeenPosition { get; }
    string? SeenHead { get; }
}

/// <summary>
/// A protected request was made and signed by its first approver. <see cref="Kind"/> says what it would do: delete
/// sets, change the governance rules (<see cref="Governance"/>, based on the rules at <see cref="RulesVersion"/>), or
/// release a legal hold. <see cref="Loosening"/> lists why a governance change loosens protection (it then waits
/// twice the cooling-off delay); empty for everything else.
/// </summary>
public sealed record RequestOpened(
    string RequestId, IReadOnlyList<string> Targets, string TargetsDigest, string Reason, string RequestedBy, string Signature, DateTimeOffset At,
    RequestKind Kind = RequestKind.Delete, GovernanceDocument? Governance = null, long? RulesVersion = null, IReadOnlyList<string>? Loosening = null,
    long? SeenPosition = null, string? SeenHead = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Subject = null) : IRequestEvent, ISignedEvent
{
    public const string EventType = "RequestOpened.v1";
}

public sealed record RequestApproved(string RequestId, string ApprovedBy, string Signature, DateTimeOffset At, long? SeenPosition = null, string? SeenHead = null) : IRequestEvent, ISignedEvent
{
    public const string EventType = "RequestApproved.v1";
}

/// <summary>M distinct approvers have signed; execution may not happen before <see cref="ExecutableAfter"/>.</summary>
public sealed record RequestQuorumReached(string RequestId, IReadOnlyList<string> Approvers, DateTimeOffset ExecutableAfter, DateTimeOffset At) : IRequestEvent
{
    public const string EventType = "RequestQuorumReached.v1";
}

/// <summary>Final: a vetoed request can never execute.</summary>
public sealed record RequestVetoed(string RequestId, string VetoedBy, string Reason, string Signature, DateTimeOffset At, long? SeenPosition = null, string? SeenHead = null) : IRequestEvent, ISignedEvent
{
    public const string EventType = "RequestVetoed.v1";
}

/// <summary>No quorum before the expiry: denied. Silence never approves.</summary>
public sealed record RequestExpired(string RequestId, DateTimeOffset At) : IRequestEvent
{
    public const string EventType = "RequestExpired.v1";
}

/// <summary>
/// The request was carried out. For a deletion: appended before any byte is removed, naming exactly the segments to
/// remove. For a governance change or a hold release: appended after the effect (GovernanceChanged, LegalHoldReleased).
/// </summary>
public sealed record RequestExecuted(string RequestId, IReadOnlyList<string> Targets, IReadOnlyList<string> SegmentsToRemove, DateTimeOffset At) : IRequestEvent
{
    public const string EventType = "RequestExecuted.v1";
}

/// <summary>An attempt the vault refused, kept for auditors: who tried what, and why it was refused.</summary>
public sealed record RequestAttemptRefused(string RequestId, string Actor, string Action, RefusalCode Code, string Reason, DateTimeOffset At) : IRequestEvent
{
    public const string EventType = "RequestAttemptRefused.v1";
}
