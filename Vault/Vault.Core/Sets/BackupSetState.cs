namespace Vault.Core.Sets;

public enum SetStatus
{
    None,
    Open,
    Sealed,
    /// <summary>Removed by an executed, quorum-approved deletion request.</summary>
    Deleted,
}

/// <summary>A backup set folded from its stream: opened, then sealed. An open set that is never sealed is incomplete, never a backup.</summary>
public sealed record BackupSetState
{
    public static BackupSetState Empty { get; } = new();

    public SetStatus Status { get; init; }
    public SetOpened? Opened { get; init; }
    public SetSealed? Sealed { get; init; }
    public string? DeletedBy { get; init; }

    /// <summary>The seal's retain-until, or a later one an approver set; never earlier.</summary>
    public DateTimeOffset RetainUntil { get; init; }

    /// <summary>Legal holds in force: hold id → the placement. Only a quorum releases one.</summary>
    public System.Collections.Immutable.ImmutableSortedDictionary<string, LegalHoldPlaced> Holds { get; init; } =
        System.Collections.Immutable.ImmutableSortedDictionary.Create<string, LegalHoldPlaced>(StringComparer.Ordinal);

    public BackupSetState Apply(object e) => e switch
    {
        SetOpened o when Status == SetStatus.None => this with { Status = SetStatus.Open, Opened = o },
        SetSealed s when Status == SetStatus.Open => this with { Status = SetStatus.Sealed, Sealed = s, RetainUntil = s.RetainUntil },
        RetentionExtended r when r.RetainUntil > RetainUntil => this with { RetainUntil = r.RetainUntil },
        LegalHoldPlaced h => this with { Holds = Holds.SetItem(h.HoldId, h) },
        LegalHoldReleased r => this with { Holds = Holds.Remove(r.HoldId) },
        Governance.RequestExecuted d => this with { Status = SetStatus.Deleted, DeletedBy = d.RequestId },
        _ => this,
    };
}
