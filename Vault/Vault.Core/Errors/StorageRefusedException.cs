namespace Vault.Core.Errors;

public sealed class StorageRefusedException(string message, Exception? inner = null) : VaultException(message, inner)
{
    public override FailureKind Kind => FailureKind.Refused;
}
