namespace Vault.Core.Errors;

public sealed class StorageUnavailableException(string message, Exception? inner = null) : VaultException(message, inner)
{
    public override FailureKind Kind => FailureKind.Unavailable;
}
