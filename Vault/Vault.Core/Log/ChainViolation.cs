namespace Vault.Core.Log;

public enum ViolationKind
{
    /// <summary>A position is absent: the record was deleted, or the log was cut short.</summary>
    Missing,
    /// <summary>A field of the record no longer matches its hash.</summary>
    Altered,
    /// <summary>The record is intact but was written at another position: records were swapped, inserted or renumbered.</summary>
    Moved,
    /// <summary>The record is intact but does not follow the record before it.</summary>
    BrokenLink,
}

/// <summary>The first place the chain does not hold, and what is wrong there.</summary>
public sealed record ChainViolation(long Position, ViolationKind Kind, string Detail)
{
    public override string ToString() => $"position {Position}: {Detail}";
}
