using System.Text.Json;
using System.Text.Json.Serialization;

namespace Vault.Core.Sets;

/// <summary>
/// What a sealed set holds (docs/wire-format.md): every entry with its type, mode, mtime, size and the ordered hashes
/// of its segments. A set pushed from stdin has one entry of type "stream". Stored as a segment itself.
/// </summary>
public sealed record Manifest(
    [property: JsonPropertyName("format")] string Format,
    [property: JsonPropertyName("setId")] string SetId,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("entries")] IReadOnlyList<ManifestEntry> Entries)
{
    public const string CurrentFormat = "vault-manifest/v1";
    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    public static Manifest Parse(ReadOnlySpan<byte> bytes)
    {
        var manifest = JsonSerializer.Deserialize<Manifest>(bytes, Json) ?? throw new JsonException("empty manifest");
        if (manifest.Format != CurrentFormat || manifest.Entries is null)
            throw new JsonException($"not a {CurrentFormat} manifest");
        return manifest;
    }

    public IEnumerable<string> SegmentHashes => Entries.SelectMany(e => e.Segments ?? []);
}

/// <param name="Type">"file", "dir", "symlink" or "stream".</param>
/// <param name="Mode">Unix permission bits.</param>
/// <param name="MtimeUnixMs">Modification time, milliseconds since 1970 UTC.</param>
/// <param name="Inode">The source inode, so the next push can skip unchanged files; not used for restore.</param>
public sealed record ManifestEntry(
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("mode")] int Mode,
    [property: JsonPropertyName("mtime")] long MtimeUnixMs,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("segments")] IReadOnlyList<string>? Segments = null,
    [property: JsonPropertyName("target")] string? Target = null,
    [property: JsonPropertyName("inode")] long? Inode = null);
