using System.Text.Json;
using System.Text.Json.Serialization;
using Vault.Core.Errors;

namespace Vault.Storage;

/// <summary>
/// vault.json: what makes a directory a vault. Written last, atomically, by 'vault init', so a directory without it
/// is never mistaken for a half-made vault. It names the log's backend but never holds credentials.
/// </summary>
public sealed record VaultManifest(
    [property: JsonPropertyName("formatVersion")] int FormatVersion,
    [property: JsonPropertyName("vaultId")] string VaultId,
    [property: JsonPropertyName("createdAt")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("log")] LogLocation Log,
    [property: JsonPropertyName("genesisHash")] string GenesisHash)
{
    public const string FileName = "vault.json";
    public const int CurrentFormat = 1;


    public static string PathIn(string directory) => System.IO.Path.Combine(directory, FileName);

    public static VaultManifest Read(string directory)
    {
        var full = System.IO.Path.GetFullPath(directory);
        if (!Directory.Exists(full))
            throw new NotAVaultException($"The vault directory {full} does not exist. Create a vault there with 'vault init --vault {directory}', or point --vault (or VAULT_DIR) at an existing one.");
        var path = PathIn(full);
        if (!File.Exists(path))
            throw new NotAVaultException($"{full} is not a vault (it has no {FileName}). Create one with 'vault init --vault {directory}', or point --vault at an existing vault.");
        try
        {
            var manifest = JsonSerializer.Deserialize(File.ReadAllBytes(path), VaultManifestJson.Default.VaultManifest);
            if (manifest is null || manifest.Log is null || string.IsNullOrEmpty(manifest.VaultId))
                throw new JsonException("required fields are missing");
            if (manifest.FormatVersion != CurrentFormat)
                throw new StorageCorruptException($"{path} is vault format {manifest.FormatVersion}; this build reads format {CurrentFormat}.");
            return manifest;
        }
        catch (JsonException ex)
        {
            throw new StorageCorruptException($"{path} is damaged ({ex.Message}). Restore it from a site copy of the vault directory.", ex);
        }
    }

    /// <summary>Writes vault.json through a temporary file, fsync and rename, so it is either whole or absent.</summary>
    public void Write(string directory)
    {
        var path = PathIn(directory);
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(stream, this, VaultManifestJson.Default.VaultManifest);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: false);
    }
}

/// <summary>Where a vault's log lives: "sqlite" with a file relative to the vault directory, or "postgres" with a schema.</summary>
public sealed record LogLocation(
    [property: JsonPropertyName("backend")] string Backend,
    [property: JsonPropertyName("file")] string? File = null,
    [property: JsonPropertyName("schema")] string? Schema = null)
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";
}

/// <summary>
/// vault.json's reading and writing, generated at build time: every command reads vault.json first, and the
/// reflection-based serializer's start-up cost 50–70 ms of a 0.5 s 'sets list' (docs/benchmarks.md).
/// </summary>
[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(VaultManifest))]
internal sealed partial class VaultManifestJson : JsonSerializerContext;
