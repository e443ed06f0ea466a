using Vault.Core.Errors;
using Vault.Core.Governance;

namespace Vault.Services;

/// <summary>The governance said no; the attempt is already recorded in the log.</summary>
public sealed class GovernanceRefusedException(Refusal refusal)
    : VaultException($"Refused ({refusal.Code}): {refusal.Reason} The attempt is recorded in the log.")
{
    public override FailureKind Kind => FailureKind.GovernanceRefused;
    public Refusal Refusal { get; } = refusal;
}
