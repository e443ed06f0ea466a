using System.Text.Json.Serialization;

namespace Ingest.Contracts;

/// <summary>Which of these segment hashes does the vault hold already? Answered with a "segments-present" reply.</summary>
public sealed record QuerySegments
{
    [JsonPropertyName("queryId")] public string QueryId { get; init; } = "";
    [JsonPropertyName("hashes")] public string[]? Hashes { get; init; }
    [JsonPropertyName("replyTo")] public string ReplyTo { get; init; } = "";
}
