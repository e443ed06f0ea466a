using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using Vault.Core.Crypto;
using System.Text;

namespace Vault.Core.Log;

/// <summary>
/// The chain hash, format v1 (docs/log-format.md): SHA-256 over
/// prev_hash[32] | u64 position | u32 len, stream_id | u64 stream_version | u32 len, event_type
/// | i64 recorded_at_us | u32 len, metadata | u32 len, payload; integers big-endian, text UTF-8.
/// </summary>
[System.Runtime.CompilerServices.SkipLocalsInit]
public static class ChainHash
{
    public const int Size = 32;
    private const int StackLimit = 2048;

    /// <summary>The previous hash of the first record: 32 zero bytes.</summary>
    public static byte[] Genesis => new byte[Size];

    public static long ToUnixMicroseconds(DateTimeOffset at) => (at.UtcTicks - DateTime.UnixEpoch.Ticks) / 10;

    public static DateTimeOffset FromUnixMicroseconds(long micros) => new(DateTime.UnixEpoch.Ticks + micros * 10, TimeSpan.Zero);

    /// <summary>Truncates to the microsecond, the precision that is stored and hashed.</summary>
    public static DateTimeOffset Truncate(DateTimeOffset at) => FromUnixMicroseconds(ToUnixMicroseconds(at));

    public static byte[] Compute(EventRecord r) =>
        Compute(r.PreviousHash, r.Position, r.StreamId, r.StreamVersion, r.EventType, r.RecordedAtMicroseconds, r.Metadata, r.Payload);

    /// <summary>Does the record's stored hash fit its fields at <paramref name="position"/>? Allocates nothing.</summary>
    public static bool Matches(EventRecord r, long position)
    {
        if (r.Hash.Length != Size || r.PreviousHash.Length != Size)
            return false;
        Span<byte> computed = stackalloc byte[Size];
        Compute(r.PreviousHash, position, r.StreamId, r.StreamVersion, r.EventType, r.RecordedAtMicroseconds, r.Metadata, r.Payload, computed);
        return computed.SequenceEqual(r.Hash);
    }

    /// <summary>
    /// Does a stored hash fit fields read straight from the store's buffers (texts as their stored UTF-8 bytes)?
    /// Allocates nothing: the chain-only verify hashes a million records this way.
    /// </summary>
    public static bool Matches(
        ReadOnlySpan<byte> previousHash, long position, ReadOnlySpan<byte> streamIdUtf8, long streamVersion,
        ReadOnlySpan<byte> eventTypeUtf8, long recordedAtMicros, ReadOnlySpan<byte> metadata, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> hash)
    {
        if (hash.Length != Size || previousHash.Length != Size || position < 0 || streamVersion < 0)
            return false;
        var length = Size + 8 + 4 + streamIdUtf8.Length + 8 + 4 + eventTypeUtf8.Length + 8 + 4 + metadata.Length + 4 + payload.Length;
        Span<byte> computed = stackalloc byte[Size];
        if (length <= StackLimit)
        {
            Span<byte> buffer = stackalloc byte[StackLimit];
            Sha256.HashData(buffer[..EncodeUtf8(buffer, previousHash, position, streamIdUtf8, streamVersion, eventTypeUtf8, recordedAtMicros, metadata, payload)], computed);
        }
        else
        {
            var rented = ArrayPool<byte>.Shared.Rent(length);
            try
            {
                Sha256.HashData(rented.AsSpan(0, EncodeUtf8(rented, previousHash, position, streamIdUtf8, streamVersion, eventTypeUtf8, recordedAtMicros, metadata, payload)), computed);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        return computed.SequenceEqual(hash);
    }

    private static int EncodeUtf8(
        Span<byte> buffer, ReadOnlySpan<byte> previousHash, long position, ReadOnlySpan<byte> streamId, long streamVersion,
        ReadOnlySpan<byte> eventType, long recordedAtMicros, ReadOnlySpan<byte> metadata, ReadOnlySpan<byte> payload)
    {
        previousHash.CopyTo(buffer);
        var at = Size;
        BinaryPrimitives.WriteUInt64BigEndian(buffer[at..], (ulong)position);
        at += 8;
        at += WriteBytes(buffer[at..], streamId);
        BinaryPrimitives.WriteUInt64BigEndian(buffer[at..], (ulong)streamVersion);
        at += 8;
        at += WriteBytes(buffer[at..], eventType);
        BinaryPrimitives.WriteInt64BigEndian(buffer[at..], recordedAtMicros);
        at += 8;
        at += WriteBytes(buffer[at..], metadata);
        at += WriteBytes(buffer[at..], payload);
        return at;
    }

    public static byte[] Compute(
        ReadOnlySpan<byte> previousHash, long position, string streamId, long streamVersion,
        string eventType, long recordedAtMicros, ReadOnlySpan<byte> metadata, ReadOnlySpan<byte> payload)
    {
        var hash = new byte[Size];
        Compute(previousHash, position, streamId, streamVersion, eventType, recordedAtMicros, metadata, payload, hash);
        return hash;
    }

    public static void Compute(
        ReadOnlySpan<byte> previousHash, long position, string streamId, long streamVersion,
        string eventType, long recordedAtMicros, ReadOnlySpan<byte> metadata, ReadOnlySpan<byte> payload, Span<byte> destination)
    {
        if (previousHash.Length != Size)
            throw new ArgumentException($"A previous hash is {Size} bytes; got {previousHash.Length}.", nameof(previousHash));
        var length = EncodedLength(streamId, eventType, metadata.Length, payload.Length);
        if (length <= StackLimit)
        {
            // Most records are small: encode on the stack, no pool (whose locks made parallel verification spin).
            Span<byte> buffer = stackalloc byte[StackLimit];
            var written = Encode(buffer, previousHash, position, streamId, streamVersion, eventType, recordedAtMicros, metadata, payload);
            Sha256.HashData(buffer[..written], destination);
            return;
        }

        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var written = Encode(rented, previousHash, position, streamId, streamVersion, eventType, recordedAtMicros, metadata, payload);
            Sha256.HashData(rented.AsSpan(0, written), destination);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>The exact bytes that are hashed, for docs and auditors' tooling.</summary>
    public static byte[] Encode(EventRecord r)
    {
        var buffer = new byte[EncodedLength(r.StreamId, r.EventType, r.Metadata.Length, r.Payload.Length)];
        Encode(buffer, r.PreviousHash, r.Position, r.StreamId, r.StreamVersion, r.EventType, r.RecordedAtMicroseconds, r.Metadata, r.Payload);
        return buffer;
    }

    private static int EncodedLength(string streamId, string eventType, int metadataLength, int payloadLength) =>
        Size + 8 + 4 + Encoding.UTF8.GetByteCount(streamId) + 8 + 4 + Encoding.UTF8.GetByteCount(eventType)
        + 8 + 4 + metadataLength + 4 + payloadLength;

    private static int Encode(
        Span<byte> buffer, ReadOnlySpan<byte> previousHash, long position, string streamId, long streamVersion,
        string eventType, long recordedAtMicros, ReadOnlySpan<byte> metadata, ReadOnlySpan<byte> payload)
    {
        var at = 0;
        previousHash.CopyTo(buffer);
        at += Size;
        BinaryPrimitives.WriteUInt64BigEndian(buffer[at..], checked((ulong)position));
        at += 8;
        at += WriteText(buffer[at..], streamId);
        BinaryPrimitives.WriteUInt64BigEndian(buffer[at..], checked((ulong)streamVersion));
        at += 8;
        at += WriteText(buffer[at..], eventType);
        BinaryPrimitives.WriteInt64BigEndian(buffer[at..], recordedAtMicros);
        at += 8;
        at += WriteBytes(buffer[at..], metadata);
        at += WriteBytes(buffer[at..], payload);
        return at;
    }

    private static int WriteText(Span<byte> buffer, string text)
    {
        var count = Encoding.UTF8.GetBytes(text, buffer[4..]);
        BinaryPrimitives.WriteUInt32BigEndian(buffer, (uint)count);
        return 4 + count;
    }

    private static int WriteBytes(Span<byte> buffer, ReadOnlySpan<byte> bytes)
    {
        BinaryPrimitives.WriteUInt32BigEndian(buffer, (uint)bytes.Length);
        bytes.CopyTo(buffer[4..]);
        return 4 + bytes.Length;
    }
}
