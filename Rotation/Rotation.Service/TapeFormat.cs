using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rotation.Service;

public enum TapeRecordType : byte
{
    Header = 1,
    Segment = 2,
    SetMark = 3,
    Catalog = 4,
    EndOfData = 5,
}

/// <summary>The first record of every image: what medium this is and which write (and which part of a span) it holds.</summary>
public sealed record TapeHeader(
    [property: JsonPropertyName("format")] string Format,
    [property: JsonPropertyName("vaultId")] string VaultId,
    [property: JsonPropertyName("label")] string Label,
    [property: JsonPropertyName("pool")] string Pool,
    [property: JsonPropertyName("writeId")] string WriteId,
    [property: JsonPropertyName("spanIndex")] int SpanIndex,
    [property: JsonPropertyName("spanCount")] int SpanCount,
    [property: JsonPropertyName("date")] DateOnly Date,
    [property: JsonPropertyName("checkpoint"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Vault.Core.Checkpoints.CheckpointCopy? Checkpoint = null)
{
    public const string CurrentFormat = "vault-tape/v1";

    /// <summary>The header of the image at <paramref name="path"/>, or null when its first record is not an intact header.</summary>
    public static TapeHeader? ReadFrom(string path)
    {
        try
        {
            using var input = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            return TapeFormat.Read(input) is { Type: TapeRecordType.Header, Intact: true } record ? TapeFormat.ParseJson<TapeHeader>(record.Payload) : null;
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

/// <summary>A file mark closing one set: everything to restore it was written before it (on this medium, earlier ones of the span, or the chain).</summary>
public sealed record TapeSetMark(
    [property: JsonPropertyName("setId")] string SetId,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("sealedAt")] DateTimeOffset SealedAt,
    [property: JsonPropertyName("manifest")] string ManifestHash,
    [property: JsonPropertyName("segments")] int Segments);

public sealed record TapeCatalogEntry(
    [property: JsonPropertyName("hash")] string Hash,
    [property: JsonPropertyName("offset")] long Offset);

/// <summary>The last record before end-of-data: the sets marked and the segments held on this medium, with their offsets.</summary>
public sealed record TapeCatalog(
    [property: JsonPropertyName("label")] string Label,
    [property: JsonPropertyName("writeId")] string WriteId,
    [property: JsonPropertyName("spanIndex")] int SpanIndex,
    [property: JsonPropertyName("continues")] bool Continues,
    [property: JsonPropertyName("sets")] IReadOnlyList<TapeSetMark> Sets,
    [property: JsonPropertyName("segments")] IReadOnlyList<TapeCatalogEntry> Segments);

/// <summary>One record read back: its type, where it starts, its payload, and whether its checksum held.</summary>
public sealed record TapeRecord(TapeRecordType Type, long Offset, byte[] Payload, bool Intact);

/// <summary>
/// The emulated tape image (docs/tape-format.md): sequential records, each
/// "VTRC" | type u8 | flags u8 | reserved u16 | length u32 BE | payload | SHA-256 of everything before it in the record.
/// A segment record's payload is its 32-byte SHA-256 | plaintext length u64 BE | the zstd frame as the vault stores it.
/// </summary>
public static class TapeFormat
{
    public static readonly byte[] Magic = "VTRC"u8.ToArray();
    public const int HeaderBytes = 12;
    public const int ChecksumBytes = 32;
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static byte[] JsonPayload<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Json);

    public static T ParseJson<T>(byte[] payload) => JsonSerializer.Deserialize<T>(payload, Json) ?? throw new JsonException("empty record");

    public static byte[] SegmentPayload(string hashHex, long plaintextLength, ReadOnlySpan<byte> frame)
    {
        var payload = new byte[40 + frame.Length];
        Convert.FromHexString(hashHex).CopyTo(payload, 0);
        BinaryPrimitives.WriteInt64BigEndian(payload.AsSpan(32), plaintextLength);
        frame.CopyTo(payload.AsSpan(40));
        return payload;
    }

    public static (string Hash, long Length, ReadOnlyMemory<byte> Frame) ParseSegment(byte[] payload) =>
        (Convert.ToHexStringLower(payload.AsSpan(0, 32)), BinaryPrimitives.ReadInt64BigEndian(payload.AsSpan(32)), payload.AsMemory(40));

    /// <summary>The bytes a record with this payload takes in an image.</summary>
    public static long RecordBytes(int payloadLength) => HeaderBytes + payloadLength + ChecksumBytes;

    /// <summary>Writes one record; returns the number of bytes written.</summary>
    public static long Write(Stream output, TapeRecordType type, ReadOnlySpan<byte> payload)
    {
        Span<byte> header = stackalloc byte[HeaderBytes];
        Magic.CopyTo(header);
        header[4] = (byte)type;
        header[5] = 0;
        header[6] = header[7] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(header[8..], (uint)payload.Length);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(header);
        sha.AppendData(payload);
        Span<byte> checksum = stackalloc byte[ChecksumBytes];
        sha.GetHashAndReset(checksum);
        output.Write(header);
        output.Write(payload);
        output.Write(checksum);
        return HeaderBytes + payload.Length + ChecksumBytes;
    }

    /// <summary>
    /// Reads the record at the stream's position; null at the end of the image. A record whose checksum fails is
    /// returned with <see cref="TapeRecord.Intact"/> false; a record whose framing is broken ends the scan with an exception.
    /// </summary>
    public static TapeRecord? Read(Stream input) => Read(input, input.Position, input.Length, verify: true);

    /// <summary>
    /// Reads the next record of a stream that cannot seek (an image arriving over the network): <paramref name="offset"/>
    /// is where it starts and <paramref name="total"/> the image's length. Without <paramref name="verify"/> the record
    /// checksum is not computed (<see cref="TapeRecord.Intact"/> is then true): for a reader that checks every segment
    /// against its own hash and the whole image against its SHA-256.
    /// </summary>
    public static TapeRecord? Read(Stream input, long offset, long total, bool verify)
    {
        Span<byte> header = stackalloc byte[HeaderBytes];
        var got = input.ReadAtLeast(header, HeaderBytes, throwOnEndOfStream: false);
        if (got == 0)
            return null;
        if (got < HeaderBytes || !header[..4].SequenceEqual(Magic))
            throw new InvalidDataException($"no record starts at offset {offset}: the image is cut short or damaged there");
        var length = BinaryPrimitives.ReadUInt32BigEndian(header[8..]);
        if (length > 64 << 20 || offset + HeaderBytes + length + ChecksumBytes > total)
            throw new InvalidDataException($"the record at offset {offset} claims {length} bytes, more than the image holds");
        var payload = new byte[length];
        input.ReadExactly(payload);
        Span<byte> stored = stackalloc byte[ChecksumBytes];
        input.ReadExactly(stored);
        if (!verify)
            return new TapeRecord((TapeRecordType)header[4], offset, payload, true);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(header);
        sha.AppendData(payload);
        Span<byte> actual = stackalloc byte[ChecksumBytes];
        sha.GetHashAndReset(actual);
        return new TapeRecord((TapeRecordType)header[4], offset, payload, actual.SequenceEqual(stored));
    }
}
