using System.Text.Json;

namespace Vault.Core.Log;

/// <summary>
/// One log record as a JSON line with the exact bytes that were hashed (docs/audit.md): position, stream id and
/// version, event type, time in Unix microseconds, metadata and payload in base64 as stored, previous hash and hash
/// in hex. The audit export writes it; site custodians keep the log copy in it; 'vault recover' reads it back.
/// </summary>
public static class LogRecordLine
{
    public static readonly JsonWriterOptions WriterOptions = new() { Indented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// The same line from the stored fields themselves (UTF-8 texts, raw bytes), allocating nothing: the export over
    /// SQLite's raw cursor writes every record this way. Byte for byte what <see cref="Write(Utf8JsonWriter, EventRecord)"/> writes.
    /// </summary>
    public static void Write(Utf8JsonWriter line, long position, ReadOnlySpan<byte> streamId, long streamVersion, ReadOnlySpan<byte> eventType,
        long recordedAtUs, ReadOnlySpan<byte> metadata, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> previousHash, ReadOnlySpan<byte> hash)
    {
        Span<char> hex = stackalloc char[64];
        line.WriteStartObject();
        line.WriteNumber("position"u8, position);
        line.WriteString("streamId"u8, streamId);
        line.WriteNumber("streamVersion"u8, streamVersion);
        line.WriteString("eventType"u8, eventType);
        line.WriteNumber("recordedAtUs"u8, recordedAtUs);
        line.WriteBase64String("metadata"u8, metadata);
        line.WriteBase64String("payload"u8, payload);
        line.WriteString("previousHash"u8, Hex(previousHash, hex));
        line.WriteString("hash"u8, Hex(hash, hex));
        line.WriteEndObject();
    }

    private static ReadOnlySpan<char> Hex(ReadOnlySpan<byte> bytes, Span<char> buffer)
    {
        if (bytes.Length * 2 > buffer.Length)
            return Convert.ToHexStringLower(bytes);
        Convert.TryToHexStringLower(bytes, buffer, out var written);
        return buffer[..written];
    }

    public static void Write(Utf8JsonWriter line, EventRecord r)
    {
        line.WriteStartObject();
        line.WriteNumber("position", r.Position);
        line.WriteString("streamId", r.StreamId);
        line.WriteNumber("streamVersion", r.StreamVersion);
        line.WriteString("eventType", r.EventType);
        line.WriteNumber("recordedAtUs", r.RecordedAtMicroseconds);
        line.WriteBase64String("metadata", r.Metadata);
        line.WriteBase64String("payload", r.Payload);
        line.WriteString("previousHash", Convert.ToHexStringLower(r.PreviousHash));
        line.WriteString("hash", Convert.ToHexStringLower(r.Hash));
        line.WriteEndObject();
    }

    /// <summary>The record a line holds; a <see cref="FormatException"/> naming what is wrong when it is not one.</summary>
    public static EventRecord Parse(ReadOnlySpan<byte> line)
    {
        try
        {
            using var document = JsonDocument.Parse(line.ToArray());
            var e = document.RootElement;
            return new EventRecord(
                e.GetProperty("position").GetInt64(),
                e.GetProperty("streamId").GetString() ?? throw new FormatException("streamId is null"),
                e.GetProperty("streamVersion").GetInt64(),
                e.GetProperty("eventType").GetString() ?? throw new FormatException("eventType is null"),
                e.GetProperty("payload").GetBytesFromBase64(),
                e.GetProperty("metadata").GetBytesFromBase64(),
                ChainHash.FromUnixMicroseconds(e.GetProperty("recordedAtUs").GetInt64()),
                Convert.FromHexString(e.GetProperty("previousHash").GetString() ?? ""),
                Convert.FromHexString(e.GetProperty("hash").GetString() ?? ""));
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new FormatException($"not a log record line ({ex.Message})", ex);
        }
    }

    /// <summary>Does <paramref name="r"/> follow a log whose head is <paramref name="head"/> at <paramref name="count"/> records, with a hash that fits its fields?</summary>
    public static string? Continues(EventRecord r, long count, ReadOnlySpan<byte> head)
    {
        if (r.Position != count + 1)
            return $"position {r.Position} where {count + 1} was next";
        if (!r.PreviousHash.AsSpan().SequenceEqual(head))
            return $"record {r.Position} does not chain to the record before it (previous hash {Convert.ToHexStringLower(r.PreviousHash)}, expected {Convert.ToHexStringLower(head)})";
        return ChainHash.Matches(r, r.Position) ? null : $"record {r.Position}'s hash does not fit its fields";
    }
}
