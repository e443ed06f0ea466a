using System.Collections.Immutable;

namespace Vault.Core.Governance;

public enum DeletionStatus
{
    None,
    Pending,
    QuorumReached,
    Vetoed,
    Expired,
    Executed,
}

/// <summary>One deletion request, folded from its events. Refused attempts change nothing.</summary>
public sealed record DeletionRequestState
{
    public static DeletionRequestState Empty { get; } = new();

    public string RequestId { get; init; } = "";
    public DeletionStatus Status { get; init; } = DeletionStatus.None;
    public IReadOnlyList<string> Targets { get; init; } = [];
    public string TargetsDigest { get; init; } = "";
    public string RequestedBy { get; init; } = "";
    public DateTimeOffset RequestedAt { get; init; }
    /// <summary>Approver id → signature (hex), the requester's first.</summary>
    public ImmutableDictionary<string, string> Approvals { get; init; } = ImmutableDictionary<string, string>.Empty;
    public DateTimeOffset? ExecutableAfter { get; init; }
    public RequestKind Kind { get; init; }
    /// <summary>For a governance change: the proposed rules and the version of stream "vault" they replace.</summary>
    public GovernanceDocument? Governance { get; init; }
    public long? RulesVersion { get; init; }
    /// <summary>Why a governance change loosens protection (it then waits twice the cooling-off delay); empty otherwise.</summary>
    public IReadOnlyList<string> Loosening { get; init; } = [];

    /// <summary>For a rotation request: the document its target's digest names (a policy), or null.</summary>
    public string? Subject { get; init; }

    public static DeletionRequestState Fold(IEnumerable<IRequestEvent> events) => events.Aggregate(Empty, (s, e) => s.Apply(e));

    public DeletionRequestState Apply(IRequestEvent e) => e switch
    {
        RequestOpened r => this with
        {
            RequestId = r.RequestId, Status = DeletionStatus.Pending, Targets = r.Targets, TargetsDigest = r.TargetsDigest,
            RequestedBy = r.RequestedBy, RequestedAt = r.At, Approvals = Approvals.SetItem(r.RequestedBy, r.Signature),
            Kind = r.Kind, Governance = r.Governance, RulesVersion = r.RulesVersion, Loosening = r.Loosening ?? [], Subject = r.Subject,
        },
        RequestApproved a => this with { Approvals = Approvals.SetItem(a.ApprovedBy, a.Signature) },
        RequestQuorumReached q => this with { Status = DeletionStatus.QuorumReached, ExecutableAfter = q.ExecutableAfter },
        RequestVetoed => this with { Status = DeletionStatus.Vetoed },
        RequestExpired => this with { Status = DeletionStatus.Expired },
        RequestExecuted => this with { Status = DeletionStatus.Executed },
        _ => this,
    };
}
