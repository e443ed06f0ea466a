using Vault.Core.Log;

namespace Vault.Storage.Log;

/// <summary>
/// What a transactional store supplies to <see cref="GroupCommitEventLog"/>: commit a batch atomically
/// (lock the head, read it and the streams' versions, seal with <see cref="BatchSealer"/>, write, commit), and read.
/// </summary>
public interface ILogBackend : IAsyncDisposable
{
    /// <summary>A short description for messages: the file or the server and schema.</summary>
    string Describe { get; }

    /// <summary>Seals and writes the requests in one transaction; the outcome of each request comes back in order.</summary>
    Task<SealedBatch> CommitAsync(IReadOnlyList<AppendRequest> requests, TimeProvider clock, CancellationToken cancellationToken);

    IAsyncEnumerable<EventRecord> ReadAllAsync(long fromPosition, CancellationToken cancellationToken);

    IAsyncEnumerable<EventRecord> ReadStreamAsync(string streamId, long fromVersion, CancellationToken cancellationToken);

    Task<LogHead> ReadHeadAsync(CancellationToken cancellationToken);
}
