using System.Text.Json.Serialization;

namespace Ingest.Contracts;

/// <summary>
/// Every answer the vault sends a producer, on the producer's reply queue. <see cref="Type"/> says which:
/// set-opened, set-rejected, segment-accepted, segment-rejected, set-sealed, segments-present, query-rejected.
/// </summary>
public sealed record IngestReply
{
    public const string SetOpenedType = "set-opened";
    public const string SetRejectedType = "set-rejected";
    public const string SegmentAcceptedType = "segment-accepted";
    public const string SegmentRejectedType = "segment-rejected";
    public const string SetSealedType = "set-sealed";
    public const string SegmentsPresentType = "segments-present";
    public const string QueryRejectedType = "query-rejected";

    [JsonPropertyName("type")] public string Type { get; init; } = "";
    [JsonPropertyName("setId")] public string? SetId { get; init; }
    [JsonPropertyName("sequence")] public long? Sequence { get; init; }
    [JsonPropertyName("sha256")] public string? Sha256 { get; init; }
    [JsonPropertyName("deduplicated")] public bool? Deduplicated { get; init; }
    [JsonPropertyName("storedBytes")] public long? StoredBytes { get; init; }
    /// <summary>For rejections: a stable code (hash-mismatch, length-mismatch, too-large, bad-encoding, unknown-set, set-sealed, sequence-conflict, malformed, missing-segments, storage-unavailable (retryable: send the same message again later)).</summary>
    [JsonPropertyName("code")] public string? Code { get; init; }
    /// <summary>For rejections: a sentence saying what was wrong and what to do.</summary>
    [JsonPropertyName("reason")] public string? Reason { get; init; }
    [JsonPropertyName("queryId")] public string? QueryId { get; init; }
    [JsonPropertyName("present")] public string[]? Present { get; init; }
}
