namespace Vault.Core.Errors;

/// <summary>What kind of failure a <see cref="VaultException"/> is; the CLI maps each to a documented exit code.</summary>
public enum FailureKind
{
    /// <summary>An option or setting is malformed (a connection string, a path, a value out of range).</summary>
    Configuration,
    /// <summary>The place named is not a vault, or has no vault yet.</summary>
    NotAVault,
    /// <summary>A vault already exists where one was to be created.</summary>
    AlreadyExists,
    /// <summary>An append's expected stream version did not match.</summary>
    Conflict,
    /// <summary>The storage (a database server, a file) could not be reached.</summary>
    Unavailable,
    /// <summary>The storage is damaged or is not in the vault's format.</summary>
    Corrupt,
    /// <summary>The storage refused an operation (permissions, the append-only rule).</summary>
    Refused,
    /// <summary>A key file could not be opened: wrong password, not a key file, damaged.</summary>
    BadKey,
    /// <summary>The vault's governance refused the action (no quorum, cooling off, veto, hold, bad signature ...); the attempt is recorded.</summary>
    GovernanceRefused,
}
