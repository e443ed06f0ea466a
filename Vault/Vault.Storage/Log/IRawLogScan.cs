using Vault.Core.Log;

namespace Vault.Storage.Log;

/// <summary>
/// One record as the store holds it, in the store's own buffers: valid only inside
/// <see cref="IStoredRecordVisitor.Visit"/>. Texts are their stored UTF-8 bytes, exactly what the chain hash covers.
/// </summary>
public readonly ref struct StoredRecord(
    long position, ReadOnlySpan<byte> streamId, long streamVersion, ReadOnlySpan<byte> eventType,
    ReadOnlySpan<byte> payload, ReadOnlySpan<byte> metadata, long recordedAtMicroseconds, ReadOnlySpan<byte> previousHash, ReadOnlySpan<byte> hash)
{
    public long Position { get; } = position;
    public ReadOnlySpan<byte> StreamId { get; } = streamId;
    public long StreamVersion { get; } = streamVersion;
    public ReadOnlySpan<byte> EventType { get; } = eventType;
    public ReadOnlySpan<byte> Payload { get; } = payload;
    public ReadOnlySpan<byte> Metadata { get; } = metadata;
    public long RecordedAtMicroseconds { get; } = recordedAtMicroseconds;
    public ReadOnlySpan<byte> PreviousHash { get; } = previousHash;
    public ReadOnlySpan<byte> Hash { get; } = hash;

    /// <summary>Does the stored hash fit the stored fields at the stored position?</summary>
    public bool HashMatches() =>
        ChainHash.Matches(PreviousHash, Position, StreamId, StreamVersion, EventType, RecordedAtMicroseconds, Metadata, Payload, Hash);

    /// <summary>The record as every other reader sees it (allocates; for the rare record that needs a closer look).</summary>
    public EventRecord ToRecord() => new(
        Position, System.Text.Encoding.UTF8.GetString(StreamId), StreamVersion, System.Text.Encoding.UTF8.GetString(EventType),
        Payload.ToArray(), Metadata.ToArray(), ChainHash.FromUnixMicroseconds(RecordedAtMicroseconds), PreviousHash.ToArray(), Hash.ToArray());
}

public interface IStoredRecordVisitor
{
    void Visit(in StoredRecord record);
}

/// <summary>
/// A backend that can show its records without building them (the SQLite log): a full chain check then costs
/// the read and one SHA-256 per record, nothing allocated per record.
/// </summary>
public interface IRawLogScan
{
    /// <summary>A read-only cursor of its own, for one thread at a time.</summary>
    IStoredRecordCursor OpenCursor();
}

public interface IStoredRecordCursor : IDisposable
{
    /// <summary>Visits the records at positions [from, to] in position order (fewer when some are missing).</summary>
    void Scan(long from, long to, IStoredRecordVisitor visitor, CancellationToken cancellationToken);
}
