using System.Text.Json.Serialization;

namespace Ingest.Contracts;

/// <summary>Seal a set with its manifest (vault-manifest/v1 JSON, zstd or identity, base64) after all its segments were accepted.</summary>
public sealed record SealSet
{
    [JsonPropertyName("setId")] public string SetId { get; init; } = "";
    /// <summary>How many chunks the push cut (sent or not); informational, recorded in the seal event.</summary>
    [JsonPropertyName("segmentCount")] public long SegmentCount { get; init; } = -1;
    [JsonPropertyName("manifestSha256")] public string ManifestSha256 { get; init; } = "";
    [JsonPropertyName("manifestLength")] public long ManifestLength { get; init; } = -1;
    [JsonPropertyName("manifestEncoding")] public string ManifestEncoding { get; init; } = "";
    [JsonPropertyName("manifest")] public byte[]? Manifest { get; init; }
    [JsonPropertyName("replyTo")] public string ReplyTo { get; init; } = "";
}
