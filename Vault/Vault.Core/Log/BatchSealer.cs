using Vault.Core.Errors;

namespace Vault.Core.Log;

/// <summary>The outcome of one request in a sealed batch: a result, or the reason it was refused.</summary>
public readonly record struct AppendOutcome(AppendResult? Result, VaultException? Error);

/// <summary>Records to write, in order, and what each request of the batch gets back.</summary>
public sealed record SealedBatch(IReadOnlyList<EventRecord> Records, IReadOnlyList<AppendOutcome> Outcomes, LogHead NewHead);

/// <summary>
/// Group commit's pure core: given the head of the log and the current version of each stream named,
/// turns many callers' appends into consecutive, hash-chained records. A request whose expected version
/// does not hold is refused alone; the others still land. Requests on one stream within a batch see each
/// other in order, so exactly one of several writers expecting the same version wins.
/// </summary>
public static class BatchSealer
{
    /// <param name="currentVersions">The last version of each stream named in the batch, or absent/-1 when the stream does not exist.</param>
    public static SealedBatch Seal(LogHead head, IReadOnlyList<AppendRequest> requests, IReadOnlyDictionary<string, long> currentVersions, DateTimeOffset now)
    {
        var recordedAt = ChainHash.Truncate(now);
        var micros = ChainHash.ToUnixMicroseconds(recordedAt);
        var versions = new Dictionary<string, long>(StringComparer.Ordinal);
        var records = new List<EventRecord>();
        var outcomes = new AppendOutcome[requests.Count];
        var position = head.Position;
        var previous = head.Hash;

        for (var i = 0; i < requests.Count; i++)
        {
            var request = requests[i];
            var stream = request.Stream.Value;
            if (!versions.TryGetValue(stream, out var version))
                version = currentVersions.TryGetValue(stream, out var stored) ? stored : -1;
            if (!request.Expected.IsSatisfiedBy(version))
            {
                outcomes[i] = new AppendOutcome(null, new WrongExpectedVersionException(stream, request.Expected, version));
                continue;
            }

            var first = position + 1;
            foreach (var e in request.Events)
            {
                position++;
                version++;
                var hash = ChainHash.Compute(previous, position, stream, version, e.EventType, micros, e.Metadata, e.Payload);
                records.Add(new EventRecord(position, stream, version, e.EventType, e.Payload, e.Metadata, recordedAt, previous, hash));
                previous = hash;
            }

            versions[stream] = version;
            outcomes[i] = new AppendOutcome(new AppendResult(first, position, version), null);
        }

        return new SealedBatch(records, outcomes, new LogHead(position, previous));
    }
}
