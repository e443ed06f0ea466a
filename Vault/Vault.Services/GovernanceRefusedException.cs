using Vault.Core.Errors;
using Vault.Core.Governance;

namespace Vault.Services;

/// <summary>The governance said no; for deletion requests the attempt is already recorded in the log.</summary>
public sealed class GovernanceRefusedException(Refusal refusal, bool recorded = true)
    : VaultException($"Refused ({refusal.Code}): {refusal.Reason}{(recorded ? " The attempt is recorded in the log." : " Nothing was recorded.")}")
{
    public override FailureKind Kind => FailureKind.GovernanceRefused;
    public Refusal Refusal { get; } = refusal;
}
