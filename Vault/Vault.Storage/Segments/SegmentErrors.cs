using Vault.Core.Errors;

namespace Vault.Storage;

/// <summary>A segment offered for storage is not what it claims (hash, length, size limit, not zstd); nothing was stored.</summary>
public sealed class SegmentRejectedException(string code, string message) : VaultException(message)
{
    public override FailureKind Kind => FailureKind.Refused;

    /// <summary>A stable reason code for producers: hash-mismatch, length-mismatch, too-large, bad-encoding.</summary>
    public string Code { get; } = code;
}

/// <summary>A stored segment no longer matches its hash, or cannot be read: restore it from another site's copy.</summary>
public sealed class SegmentCorruptException(string message, Exception? inner = null) : VaultException(message, inner)
{
    public override FailureKind Kind => FailureKind.Corrupt;
}

/// <summary>The segment is not in this store.</summary>
public sealed class SegmentNotFoundException(string message) : VaultException(message)
{
    public override FailureKind Kind => FailureKind.NotAVault;
}
