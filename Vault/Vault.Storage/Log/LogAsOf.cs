using System.Runtime.CompilerServices;
using Vault.Core.Errors;
using Vault.Core.Log;

namespace Vault.Storage.Log;

/// <summary>
/// The log as it stood after <paramref name="position"/>: every read stops there, appends are refused. Every reader
/// of the vault (sets, requests, governance, rotation) run over it shows the state of that moment, by the same code
/// that shows the state now ('vault audit replay', docs/audit.md).
/// </summary>
public sealed class LogAsOf(IEventLog log, long position) : IEventLog
{
    public long Position => position;

    public IEventLog Inner => log;

    public Task<AppendResult> AppendAsync(StreamId stream, ExpectedVersion expected, IReadOnlyList<EventData> events, CancellationToken cancellationToken = default) =>
        throw new StorageRefusedException("History replayed to a past position is read-only; nothing was appended.");

    public async IAsyncEnumerable<EventRecord> ReadStreamAsync(StreamId stream, long fromVersion = 0, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var record in log.ReadStreamAsync(stream, fromVersion, cancellationToken))
        {
            if (record.Position > position)
                yield break;
            yield return record;
        }
    }

    public async IAsyncEnumerable<EventRecord> ReadAllAsync(long fromPosition = 1, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var record in log.ReadAllAsync(fromPosition, cancellationToken))
        {
            if (record.Position > position)
                yield break;
            yield return record;
        }
    }

    public IAsyncEnumerable<EventRecord> SubscribeAsync(long fromPosition, CancellationToken cancellationToken) =>
        throw new StorageRefusedException("History replayed to a past position has no future to subscribe to.");

    public async Task<LogHead> ReadHeadAsync(CancellationToken cancellationToken = default)
    {
        if (position < 1)
            return LogHead.Empty;
        await foreach (var record in log.ReadAllAsync(position, cancellationToken))
            return new LogHead(record.Position, record.Hash);
        return await log.ReadHeadAsync(cancellationToken);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
