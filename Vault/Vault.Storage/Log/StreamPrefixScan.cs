using System.Runtime.CompilerServices;
using System.Text;
using Vault.Core.Log;

namespace Vault.Storage.Log;

/// <summary>Which records a reader wants, judged by stream id and event type as stored (UTF-8), before a record is built.</summary>
public delegate bool RecordSelector(ReadOnlySpan<byte> streamId, ReadOnlySpan<byte> eventType);

/// <summary>
/// The records a reader wants, in log order. Where the backend can show its records without building them (SQLite's
/// raw cursor), stream id and event type are judged in the store's own buffers and only the wanted records are built:
/// 'vault audit requests' over a million records builds about a thousand; the sets reader skips every segment record.
/// </summary>
public static class StreamPrefixScan
{
    public static IAsyncEnumerable<EventRecord> ReadStreamsStartingWithAsync(this IEventLog log, string prefix, CancellationToken ct = default)
    {
        var bytes = Encoding.UTF8.GetBytes(prefix);
        return log.ReadSelectedAsync((stream, _) => stream.StartsWith(bytes), ct);
    }

    public static async IAsyncEnumerable<EventRecord> ReadSelectedAsync(this IEventLog log, RecordSelector wanted, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var (raw, limit) = log switch
        {
            GroupCommitEventLog g => (g.RawScan, long.MaxValue),
            LogAsOf { Inner: GroupCommitEventLog g } past => (g.RawScan, past.Position),
            _ => (null, long.MaxValue),
        };
        if (raw is null)
        {
            await foreach (var record in log.ReadAllAsync(1, ct))
            {
                if (wanted(Encoding.UTF8.GetBytes(record.StreamId), Encoding.UTF8.GetBytes(record.EventType)))
                    yield return record;
            }

            yield break;
        }

        var head = (await log.ReadHeadAsync(ct)).Position;
        var found = new Collector(wanted);
        using (var cursor = raw.OpenCursor())
            cursor.Scan(1, Math.Min(head, limit), found, ct);
        foreach (var record in found.Records)
            yield return record;
    }

    private sealed class Collector(RecordSelector wanted) : IStoredRecordVisitor
    {
        public List<EventRecord> Records { get; } = [];

        public void Visit(in StoredRecord record)
        {
            if (wanted(record.StreamId, record.EventType))
                Records.Add(record.ToRecord());
        }
    }
}
