using System.Text.Json.Serialization;

namespace Ingest.Contracts;

/// <summary>Open a backup set. Kind is "tree" (a directory) or "stream" (one byte stream).</summary>
public sealed record OpenSet
{
    [JsonPropertyName("setId")] public string SetId { get; init; } = "";
    [JsonPropertyName("source")] public string Source { get; init; } = "";
    [JsonPropertyName("name")] public string Name { get; init; } = "";
    [JsonPropertyName("kind")] public string Kind { get; init; } = "tree";
    [JsonPropertyName("labels")] public Dictionary<string, string>? Labels { get; init; }
    [JsonPropertyName("replyTo")] public string ReplyTo { get; init; } = "";
}
