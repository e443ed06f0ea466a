namespace Vault.Core.Errors;

/// <summary>The base of every failure the vault reports to a person: the message is one sentence saying what was wrong and what to do.</summary>
public abstract class VaultException : Exception
{
    protected VaultException(string message, Exception? inner = null) : base(message, inner)
    {
    }

    public abstract FailureKind Kind { get; }
}
