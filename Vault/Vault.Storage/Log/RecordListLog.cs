using System.Runtime.CompilerServices;
using Vault.Core.Errors;
using Vault.Core.Log;

namespace Vault.Storage.Log;

/// <summary>
/// A read-only log over records already read and verified elsewhere (a custodian's copy of the vault's log), in
/// position order, so the vault's own readers (governance, request proofs) run over it unchanged. Appends are refused.
/// </summary>
public sealed class RecordListLog(IReadOnlyList<EventRecord> records) : IEventLog
{
    public Task<AppendResult> AppendAsync(StreamId stream, ExpectedVersion expected, IReadOnlyList<EventData> events, CancellationToken cancellationToken = default) =>
        throw new StorageRefusedException("This is a read-only copy of a log; nothing was appended.");

    public async IAsyncEnumerable<EventRecord> ReadStreamAsync(StreamId stream, long fromVersion = 0, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.CompletedTask;
        var id = stream.ToString();
        foreach (var record in records)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (record.StreamVersion >= fromVersion && string.Equals(record.StreamId, id, StringComparison.Ordinal))
                yield return record;
        }
    }

    public async IAsyncEnumerable<EventRecord> ReadAllAsync(long fromPosition = 1, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.CompletedTask;
        foreach (var record in records)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (record.Position >= fromPosition)
                yield return record;
        }
    }

    public IAsyncEnumerable<EventRecord> SubscribeAsync(long fromPosition, CancellationToken cancellationToken) =>
        throw new StorageRefusedException("A read-only copy of a log has no future to subscribe to.");

    public Task<LogHead> ReadHeadAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(records.Count == 0 ? LogHead.Empty : new LogHead(records[^1].Position, records[^1].Hash));

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
