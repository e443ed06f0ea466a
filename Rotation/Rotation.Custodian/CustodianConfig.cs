using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rotation.Custodian;

/// <summary>A credential the custodian accepts: a name for the journal and the SHA-256 of its token (the token itself is never stored).</summary>
public sealed record CustodianCredential(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("sha256")] string Sha256);

/// <summary>
/// custodian.json in the custodian's root: the site it keeps and the credentials it accepts. Every credential has the
/// same rights: deposit, read back, extend retention, return after retention, deposit checkpoints. None can erase or
/// return an image before its retain-until: no such right exists.
/// </summary>
public sealed record CustodianConfig(
    [property: JsonPropertyName("format")] string Format,
    [property: JsonPropertyName("site")] string Site,
    [property: JsonPropertyName("credentials")] IReadOnlyList<CustodianCredential> Credentials)
{
    public const string FileName = "custodian.json";
    public const string CurrentFormat = "vault-custodian/v1";

    public static CustodianConfig Load(string root)
    {
        var path = Path.Combine(root, FileName);
        if (!File.Exists(path))
            throw new Vault.Core.Errors.NotAVaultException($"{root} is not a custodian root (no {FileName}); create one with 'vault site init --site NAME --root {root}'.");
        try
        {
            var config = JsonSerializer.Deserialize<CustodianConfig>(File.ReadAllBytes(path));
            if (config is not { Format: CurrentFormat, Site: { Length: > 0 }, Credentials: not null })
                throw new Vault.Core.Errors.StorageCorruptException($"{path} is not a custodian configuration ({CurrentFormat}).");
            return config;
        }
        catch (JsonException ex)
        {
            throw new Vault.Core.Errors.StorageCorruptException($"{path} is not valid JSON ({ex.Message}).", ex);
        }
    }

    /// <summary>Creates a custodian root with one credential; returns its token (shown once, never stored).</summary>
    public static string Create(string root, string site, string credentialName)
    {
        if (File.Exists(Path.Combine(root, FileName)))
            throw new Vault.Core.Errors.VaultAlreadyExistsException($"{root} is already a custodian root; add a credential with 'vault site credential add'.");
        Directory.CreateDirectory(root);
        var token = NewToken();
        Save(root, new CustodianConfig(CurrentFormat, site, [new CustodianCredential(credentialName, TokenHash(token))]));
        return token;
    }

    public static string AddCredential(string root, string credentialName)
    {
        var config = Load(root);
        if (config.Credentials.Any(c => c.Name == credentialName))
            throw new Vault.Core.Errors.VaultAlreadyExistsException($"The custodian already has a credential named '{credentialName}'.");
        var token = NewToken();
        Save(root, config with { Credentials = [.. config.Credentials, new CustodianCredential(credentialName, TokenHash(token))] });
        return token;
    }

    private static void Save(string root, CustodianConfig config)
    {
        var path = Path.Combine(root, FileName);
        File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(config, new JsonSerializerOptions { WriteIndented = true }) + "\n");
        File.Move(path + ".tmp", path, overwrite: true);
    }

    private static string NewToken() => "vct_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    public static string TokenHash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>The credential this token is, compared in constant time; null when it is none.</summary>
    public string? Authenticate(string? token)
    {
        if (string.IsNullOrEmpty(token))
            return null;
        var hash = Encoding.ASCII.GetBytes(TokenHash(token));
        string? name = null;
        foreach (var credential in Credentials)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, Encoding.ASCII.GetBytes(credential.Sha256)))
                name = credential.Name;
        }

        return name;
    }
}
