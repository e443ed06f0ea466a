namespace Vault.Core.Governance;

public enum RefusalCode
{
    InvalidRequest,
    UnknownApprover,
    BadSignature,
    DuplicateApproval,
    NotPending,
    Expired,
    NoQuorum,
    CoolingOff,
    Vetoed,
    RetentionLocked,
    LegalHold,
    AlreadyExecuted,
    /// <summary>A governance change was proposed against rules that have changed since; propose it again.</summary>
    StaleProposal,
    /// <summary>An approver tried to veto the governance change that removes them or replaces their key.</summary>
    OwnRemoval,
}

/// <summary>Why the vault said no, as a code for scripts and a sentence for people.</summary>
public sealed record Refusal(RefusalCode Code, string Reason);

/// <summary>What a command decided: events to append (a refusal still records the attempt), and the refusal if any.</summary>
public sealed record Decision(IReadOnlyList<IRequestEvent> Events, Refusal? Refusal)
{
    public bool Accepted => Refusal is null;
}

/// <summary>What protects one backup set from deletion whatever the quorum: its retention lock and any legal holds.</summary>
public sealed record SetProtection(DateTimeOffset RetainUntil, IReadOnlyList<string> ActiveHolds)
{
    public static SetProtection None { get; } = new(DateTimeOffset.MinValue, []);
}
