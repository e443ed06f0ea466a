namespace Vault.Core.Log;

/// <summary>One record of the global log, exactly as stored and hashed.</summary>
/// <param name="Position">Global position, 1 for the first record, without gaps.</param>
/// <param name="StreamVersion">Version within the stream, 0 for the stream's first event.</param>
/// <param name="RecordedAt">When the record was sealed, from the injected clock, at microsecond precision.</param>
/// <param name="PreviousHash">The hash of record Position-1; 32 zero bytes for position 1.</param>
/// <param name="Hash">SHA-256 over PreviousHash and every other field (docs/log-format.md).</param>
public sealed record EventRecord(
    long Position,
    string StreamId,
    long StreamVersion,
    string EventType,
    byte[] Payload,
    byte[] Metadata,
    DateTimeOffset RecordedAt,
    byte[] PreviousHash,
    byte[] Hash)
{
    public long RecordedAtMicroseconds => ChainHash.ToUnixMicroseconds(RecordedAt);
}
