using Vault.Core.Log;

namespace Vault.Core.Errors;

/// <summary>An append expected a stream to be at one version and found it at another; nothing was appended.</summary>
public sealed class WrongExpectedVersionException(string streamId, ExpectedVersion expected, long actual)
    : VaultException($"Stream '{streamId}' is at version {(actual < 0 ? "none (no stream)" : actual)}, but the append expected {expected}; nothing was appended. Read the stream again and retry.")
{
    public override FailureKind Kind => FailureKind.Conflict;
    public string StreamId { get; } = streamId;
    public ExpectedVersion Expected { get; } = expected;
    /// <summary>The stream's actual last version, -1 when it does not exist.</summary>
    public long Actual { get; } = actual;
}
