namespace Vault.Core.Errors;

public sealed class VaultConfigurationException(string message, Exception? inner = null) : VaultException(message, inner)
{
    public override FailureKind Kind => FailureKind.Configuration;
}
