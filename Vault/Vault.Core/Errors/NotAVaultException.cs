namespace Vault.Core.Errors;

public sealed class NotAVaultException(string message, Exception? inner = null) : VaultException(message, inner)
{
    public override FailureKind Kind => FailureKind.NotAVault;
}
