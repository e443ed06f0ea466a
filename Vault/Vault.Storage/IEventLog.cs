using Vault.Core.Log;

namespace Vault.Storage;

/// <summary>
/// The vault's one storage port: an append-only, hash-chained, totally ordered log of events.
/// Every backend (SQLite, PostgreSQL, and later KurrentDB or Marten where they can be had) is bound
/// to the same conformance suite in tests/Vault.Storage.Tests.
/// </summary>
public interface IEventLog : IAsyncDisposable
{
    /// <summary>Appends events to one stream if its version is as expected; durable when the task completes.</summary>
    /// <exception cref="Vault.Core.Errors.WrongExpectedVersionException">The stream is not at the expected version; nothing was appended.</exception>
    Task<AppendResult> AppendAsync(StreamId stream, ExpectedVersion expected, IReadOnlyList<EventData> events, CancellationToken cancellationToken = default);

    /// <summary>The stream's events from a version on, in order.</summary>
    IAsyncEnumerable<EventRecord> ReadStreamAsync(StreamId stream, long fromVersion = 0, CancellationToken cancellationToken = default);

    /// <summary>The whole log from a position on, in order, up to the head at the time of reading.</summary>
    IAsyncEnumerable<EventRecord> ReadAllAsync(long fromPosition = 1, CancellationToken cancellationToken = default);

    /// <summary>Catch-up, then live: every record from a position on, each once and in order, until cancelled.</summary>
    IAsyncEnumerable<EventRecord> SubscribeAsync(long fromPosition, CancellationToken cancellationToken);

    /// <summary>The last record's position and hash.</summary>
    Task<LogHead> ReadHeadAsync(CancellationToken cancellationToken = default);
}
