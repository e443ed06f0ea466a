namespace Vault.Core.Errors;

public sealed class StorageCorruptException(string message, Exception? inner = null) : VaultException(message, inner)
{
    public override FailureKind Kind => FailureKind.Corrupt;
}
