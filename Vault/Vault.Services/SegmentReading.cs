using System.Buffers.Text;
using System.Text;
using System.Text.Json;

namespace Vault.Services;

/// <summary>Remembers the last set id read, so the 200 segment records of one set in a block share one string.</summary>
internal sealed class SetIdCache
{
    private byte[] _bytes = [];
    private string _text = "";

    public string Get(ReadOnlySpan<byte> utf8)
    {
        if (!utf8.SequenceEqual(_bytes))
        {
            _bytes = utf8.ToArray();
            _text = Encoding.UTF8.GetString(utf8);
        }

        return _text;
    }
}

/// <summary>
/// Verification's reading of a SegmentStored record from its stream id and payload bytes, without building the event:
/// the stream must be set-SET/SEQUENCE in the documented form (docs/log-format.md) and the payload exactly the
/// documented object — setId and sequence those of the stream, a 64-hex-digit hash, non-negative length and
/// storedBytes, deduplicated a boolean, at a timestamp, and optionally storedSha256 (64 hex digits) — each field once.
/// Anything else is refused with the reason.
/// </summary>
internal static class SegmentReading
{
    private static readonly System.Buffers.SearchValues<byte> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdefABCDEF"u8);
    private static readonly System.Buffers.SearchValues<byte> SetIdTail = System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789._-"u8);

    private const int SetId = 1, Sequence = 2, Hash = 4, Length = 8, Stored = 16, Deduplicated = 32, At = 64, All = 127, StoredSha = 128; // storedSha256 is optional

    public static bool TryRead(ReadOnlySpan<byte> stream, ReadOnlySpan<byte> payload, SetIdCache? cache, out string? setId, out long sequence, out string? problem)
    {
        setId = null;
        sequence = 0;
        if (!TryReadStream(stream, out var streamSet, out var streamSequence))
        {
            problem = $"'{Encoding.UTF8.GetString(stream)}' is not a stream id of this vault (vault, rotation, checkpoints, set-SET, set-SET/SEQUENCE, deletion-REQUEST)";
            if (stream.StartsWith("set-"u8) && IsSetId(stream[4..]))
                problem = $"a SegmentStored record on stream '{Encoding.UTF8.GetString(stream)}', which is not a segment stream (set-SET/SEQUENCE)";
            return false;
        }

        if (!IsCanonical(payload, streamSet, stream[(stream.LastIndexOf((byte)'/') + 1)..]) && !TryReadGeneral(stream, payload, streamSet, streamSequence, out problem))
            return false;
        setId = cache?.Get(streamSet) ?? Encoding.UTF8.GetString(streamSet);
        sequence = streamSequence;
        problem = null;
        return true;
    }

    /// <summary>The full reading of a payload with a JSON reader: any valid JSON form of the documented object.</summary>
    internal static bool TryReadGeneral(ReadOnlySpan<byte> stream, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> streamSet, long streamSequence, out string? problem)
    {
        var seen = 0;
        try
        {
            var reader = new Utf8JsonReader(payload);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                problem = "the SegmentStored payload is not a JSON object";
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var bit = reader.ValueIsEscaped ? 0 : Field(reader.ValueSpan);
                var nameBytes = reader.ValueSpan; // still the payload's bytes after the reader moves on
                reader.Read();
                var ok = bit switch
                {
                    SetId => reader.TokenType == JsonTokenType.String && SameText(ref reader, streamSet),
                    Sequence => reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var n) && n == streamSequence,
                    Hash => reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped && IsHex64(reader.ValueSpan),
                    Length or Stored => reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var v) && v >= 0,
                    Deduplicated => reader.TokenType is JsonTokenType.True or JsonTokenType.False,
                    At => reader.TokenType == JsonTokenType.String && reader.TryGetDateTimeOffset(out _),
                    StoredSha => reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped && IsHex64(reader.ValueSpan),
                    _ => false,
                };
                if (!ok || (seen & bit) != 0)
                {
                    var name = Encoding.UTF8.GetString(nameBytes);
                    problem = bit switch
                    {
                        SetId when ok is false && reader.TokenType == JsonTokenType.String => $"the SegmentStored payload names set '{reader.GetString()}' on stream '{Encoding.UTF8.GetString(stream)}'",
                        Sequence when reader.TokenType == JsonTokenType.Number => $"the SegmentStored payload names sequence {Encoding.UTF8.GetString(reader.ValueSpan)} on stream '{Encoding.UTF8.GetString(stream)}'",
                        Hash when reader.TokenType == JsonTokenType.String => "the SegmentStored payload's hash is not 64 hex digits",
                        _ when (seen & bit) != 0 => $"the SegmentStored payload has the field '{name}' twice",
                        _ => $"the SegmentStored payload has an unexpected or mistyped field '{name}'",
                    };
                    return false;
                }

                seen |= bit;
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                problem = "the SegmentStored payload does not end where its object ends";
                return false;
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            problem = $"the SegmentStored payload does not parse ({ex.Message})";
            return false;
        }

        if ((seen & All) != All)
        {
            problem = "the SegmentStored payload lacks setId, sequence, a 64-hex-digit hash, length, storedBytes, deduplicated or at";
            return false;
        }

        problem = null;
        return true;
    }

    /// <summary>
    /// The payload exactly as the vault writes it — the fields in order, no spaces, no escapes, integers as plain
    /// digits — read by matching rather than by a JSON reader (the common case, twice as fast). Whatever this accepts
    /// the full reading accepts too; anything else, however valid, goes to the full reading.
    /// </summary>
    internal static bool IsCanonical(ReadOnlySpan<byte> p, ReadOnlySpan<byte> setId, ReadOnlySpan<byte> sequenceDigits)
    {
        if (!Take(ref p, "{\"setId\":\""u8) || !Take(ref p, setId) || !Take(ref p, "\",\"sequence\":"u8) || !Take(ref p, sequenceDigits)
            || !Take(ref p, ",\"hash\":\""u8) || p.Length < 64 || !IsHex64(p[..64]))
            return false;
        p = p[64..];
        if (!Take(ref p, "\",\"length\":"u8) || !TakeCount(ref p) || !Take(ref p, ",\"storedBytes\":"u8) || !TakeCount(ref p)
            || !Take(ref p, ",\"deduplicated\":"u8) || !(Take(ref p, "true"u8) || Take(ref p, "false"u8)) || !Take(ref p, ",\"at\":"u8))
            return false;
        var close = p.Length > 1 && p[0] == (byte)'"' ? p[1..].IndexOfAny((byte)'"', (byte)'\\') + 1 : 0;
        if (close <= 0 || p[close] != (byte)'"' || p[1..close].IndexOfAnyExceptInRange((byte)0x20, (byte)0x7E) >= 0)
            return false; // a control byte or non-ASCII in a timestamp is for the full reading to name
        var at = new Utf8JsonReader(p[..(close + 1)]);
        if (!at.Read() || !at.TryGetDateTimeOffset(out _))
            return false;
        p = p[(close + 1)..];
        if (Take(ref p, ",\"storedSha256\":\""u8))
        {
            if (p.Length < 64 || !IsHex64(p[..64]))
                return false;
            p = p[64..];
            if (!Take(ref p, "\""u8))
                return false;
        }

        return p.SequenceEqual("}"u8);
    }

    private static bool Take(ref ReadOnlySpan<byte> p, ReadOnlySpan<byte> expected)
    {
        if (!p.StartsWith(expected))
            return false;
        p = p[expected.Length..];
        return true;
    }

    /// <summary>A non-negative integer as plain digits without leading zeros, at most 18 of them (so it fits an int64).</summary>
    private static bool TakeCount(ref ReadOnlySpan<byte> p)
    {
        var n = p.IndexOfAnyExceptInRange((byte)'0', (byte)'9');
        if (n is <= 0 or > 18 || (p[0] == (byte)'0' && n > 1))
            return false;
        p = p[n..];
        return true;
    }

    private static int Field(ReadOnlySpan<byte> name) => name switch
    {
        _ when name.SequenceEqual("setId"u8) => SetId,
        _ when name.SequenceEqual("sequence"u8) => Sequence,
        _ when name.SequenceEqual("hash"u8) => Hash,
        _ when name.SequenceEqual("length"u8) => Length,
        _ when name.SequenceEqual("storedBytes"u8) => Stored,
        _ when name.SequenceEqual("deduplicated"u8) => Deduplicated,
        _ when name.SequenceEqual("at"u8) => At,
        _ when name.SequenceEqual("storedSha256"u8) => StoredSha,
        _ => 0,
    };

    private static bool SameText(ref Utf8JsonReader reader, ReadOnlySpan<byte> expected) =>
        reader.ValueIsEscaped ? reader.ValueTextEquals(expected) : reader.ValueSpan.SequenceEqual(expected);

    /// <summary>set-SET/SEQUENCE: SET is [a-z0-9][a-z0-9._-]{0,127}, SEQUENCE 0 or a decimal without leading zeros that fits an int64.</summary>
    internal static bool TryReadStream(ReadOnlySpan<byte> stream, out ReadOnlySpan<byte> set, out long sequence)
    {
        set = default;
        sequence = 0;
        if (!stream.StartsWith("set-"u8))
            return false;
        var rest = stream[4..];
        var slash = rest.IndexOf((byte)'/');
        if (slash < 0 || !IsSetId(rest[..slash]))
            return false;
        var digits = rest[(slash + 1)..];
        if (digits.Length is 0 or > 19 || (digits[0] == (byte)'0' && digits.Length > 1) || digits.IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0)
            return false;
        if (!Utf8Parser.TryParse(digits, out sequence, out var consumed) || consumed != digits.Length)
            return false;
        set = rest[..slash];
        return true;
    }

    private static bool IsSetId(ReadOnlySpan<byte> id) =>
        id.Length is > 0 and <= 128 && IsLowerOrDigit(id[0]) && id[1..].IndexOfAnyExcept(SetIdTail) < 0;

    private static bool IsLowerOrDigit(byte c) => c is >= (byte)'a' and <= (byte)'z' or >= (byte)'0' and <= (byte)'9';

    private static bool IsHex64(ReadOnlySpan<byte> text) => text.Length == 64 && text.IndexOfAnyExcept(HexDigits) < 0;
}
