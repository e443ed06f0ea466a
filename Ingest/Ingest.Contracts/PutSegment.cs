using System.Text.Json.Serialization;

namespace Ingest.Contracts;

/// <summary>One segment of an open set: the plaintext's SHA-256 (hex) and length, and the bytes (base64), zstd-compressed or not.</summary>
public sealed record PutSegment
{
    [JsonPropertyName("setId")] public string SetId { get; init; } = "";
    /// <summary>The chunk's ordinal within the push (0, 1, 2 …, counting chunks that are not sent); the same data gives the same numbers.</summary>
    [JsonPropertyName("sequence")] public long Sequence { get; init; } = -1;
    [JsonPropertyName("sha256")] public string Sha256 { get; init; } = "";
    [JsonPropertyName("length")] public long Length { get; init; } = -1;
    /// <summary>"zstd" (one zstd frame) or "identity".</summary>
    [JsonPropertyName("encoding")] public string Encoding { get; init; } = "";
    /// <summary>
    /// The bytes (base64 in JSON; the whole body in the binary form). A slice, so a producer may lend a pooled buffer:
    /// it is read only until the message is answered (docs/architecture.md, "Buffers").
    /// </summary>
    [JsonPropertyName("data")] public ReadOnlyMemory<byte>? Data { get; init; }
    [JsonPropertyName("replyTo")] public string ReplyTo { get; init; } = "";
}
