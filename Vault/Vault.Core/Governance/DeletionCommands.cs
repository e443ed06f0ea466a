namespace Vault.Core.Governance;

/// <summary>The vault, its rules in force at this point of the log, and the time now: everything a decision needs besides the request.</summary>
/// <remarks><paramref name="RulesVersion"/> is the version of stream "vault" the rules were read at (0: genesis only).</remarks>
public sealed record GovernanceContext(string VaultId, GovernanceRules Rules, DateTimeOffset Now, long RulesVersion = 0);

/// <summary>
/// A protected request. For <see cref="RequestKind.Delete"/> the targets are set ids; for a governance change they are
/// [<see cref="RequestTargets.Governance"/>] with <paramref name="Governance"/> and <paramref name="RulesVersion"/> set;
/// for a hold release, [<see cref="RequestTargets.Hold"/>].
/// </summary>
public sealed record RequestDeletion(string RequestId, IReadOnlyList<string> Targets, string Reason, ApproverId RequestedBy, byte[] Signature,
    RequestKind Kind = RequestKind.Delete, GovernanceDocument? Governance = null, long? RulesVersion = null, Witness? Seen = null,
    string? Subject = null, IReadOnlyList<string>? Loosening = null);

public sealed record ApproveDeletion(string RequestId, ApproverId ApprovedBy, byte[] Signature, Witness? Seen = null);

public sealed record VetoDeletion(string RequestId, ApproverId VetoedBy, string Reason, byte[] Signature, Witness? Seen = null);
