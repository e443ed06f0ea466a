namespace Vault.Core.Governance;

/// <summary>The vault, its rules in force at this point of the log, and the time now: everything a decision needs besides the request.</summary>
public sealed record GovernanceContext(string VaultId, GovernanceRules Rules, DateTimeOffset Now);

public sealed record RequestDeletion(string RequestId, IReadOnlyList<string> Targets, string Reason, ApproverId RequestedBy, byte[] Signature);

public sealed record ApproveDeletion(string RequestId, ApproverId ApprovedBy, byte[] Signature);

public sealed record VetoDeletion(string RequestId, ApproverId VetoedBy, string Reason, byte[] Signature);
