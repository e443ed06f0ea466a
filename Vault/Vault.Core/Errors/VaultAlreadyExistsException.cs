namespace Vault.Core.Errors;

public sealed class VaultAlreadyExistsException(string message) : VaultException(message)
{
    public override FailureKind Kind => FailureKind.AlreadyExists;
}
