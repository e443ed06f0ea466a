using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Vault.Core.Errors;

namespace Vault.Core.Governance;

/// <summary>
/// An approver's private key at rest: JSON naming the approver and public key, with the 32-byte Ed25519 seed sealed by
/// AES-256-GCM under a key derived from the password with Argon2id (memory-hard: 64 MiB, 3 passes, by default; kdf
/// "argon2id"). Files made before Argon2id, with PBKDF2-HMAC-SHA256 (kdf "pbkdf2-sha256"), are still read;
/// 'vault approver rekey' rewrites one with Argon2id. The vault never sees this file.
/// </summary>
public static class ApproverKeyFile
{
    public const string Format = "vault-approver-key/v1";
    public const int DefaultIterations = 600_000;
    public const int MinimumIterations = 10_000;
    public const string Argon2id = "argon2id";
    public const string Pbkdf2 = "pbkdf2-sha256";

    /// <summary>Argon2id cost: memory in KiB and passes (RFC 9106's second recommended setting is 64 MiB, 3 passes).</summary>
    public sealed record Argon2Cost(int MemoryKiB = 64 * 1024, int Passes = 3);

    /// <summary>Seals with Argon2id (the default for new key files).</summary>
    public static byte[] SealArgon2id(ApproverId approver, byte[] privateKey, string password, Argon2Cost? cost = null)
    {
        RequirePassword(password);
        var c = cost ?? new Argon2Cost();
        if (c.MemoryKiB < 8 * 1024 || c.Passes < 1)
            throw new KeyFileException("Argon2id needs at least 8 MiB of memory and one pass.");
        var salt = RandomNumberGenerator.GetBytes(16);
        return Write(approver, privateKey, salt, DeriveArgon2id(password, salt, c), Argon2id, c.Passes, c.MemoryKiB);
    }

    /// <summary>Seals with PBKDF2-HMAC-SHA256, the format before Argon2id; kept so old files can be made for tests of reading them.</summary>
    public static byte[] Seal(ApproverId approver, byte[] privateKey, string password, int iterations = DefaultIterations)
    {
        RequirePassword(password);
        if (iterations < MinimumIterations)
            throw new KeyFileException($"At least {MinimumIterations} PBKDF2 iterations.");
        var salt = RandomNumberGenerator.GetBytes(16);
        return Write(approver, privateKey, salt, DeriveKey(password, salt, iterations), Pbkdf2, iterations, null);
    }

    private static void RequirePassword(string password)
    {
        if (string.IsNullOrEmpty(password))
            throw new KeyFileException("A key file needs a password: an approver key on disk without one is one stolen laptop away from a deletion.");
    }

    private static byte[] Write(ApproverId approver, byte[] privateKey, byte[] salt, byte[] key, string kdf, int iterations, int? memoryKiB)
    {
        var nonce = RandomNumberGenerator.GetBytes(12);
        var ciphertext = new byte[privateKey.Length];
        var tag = new byte[16];
        using (var aes = new AesGcm(key, tag.Length))
            aes.Encrypt(nonce, privateKey, ciphertext, tag, Associated(approver.Value));
        var file = new KeyFileDocument(Format, approver.Value, Convert.ToHexStringLower(Ed25519.PublicKeyOf(privateKey)), kdf, iterations,
            Convert.ToBase64String(salt), Convert.ToBase64String(nonce), Convert.ToBase64String(ciphertext), Convert.ToBase64String(tag), memoryKiB);
        return JsonSerializer.SerializeToUtf8Bytes(file, new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Which key derivation a key file uses ("argon2id" or "pbkdf2-sha256"), or null when it is not a key file.</summary>
    public static string? KdfOf(byte[] content)
    {
        try
        {
            return JsonSerializer.Deserialize<KeyFileDocument>(content)?.Kdf;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Opens a key file: the approver and the private key, or a <see cref="KeyFileException"/> saying what is wrong.</summary>
    public static (ApproverId Approver, byte[] PrivateKey) Open(byte[] content, string password)
    {
        KeyFileDocument? file;
        try
        {
            file = JsonSerializer.Deserialize<KeyFileDocument>(content);
        }
        catch (JsonException)
        {
            file = null;
        }

        if (file is null || file.Format != Format || file.Kdf is not (Pbkdf2 or Argon2id))
            throw new KeyFileException($"This is not an approver key file ({Format}); make one with 'vault approver keygen'.");
        try
        {
            var salt = Convert.FromBase64String(file.Salt);
            var tag = Convert.FromBase64String(file.Tag);
            var privateKey = new byte[Ed25519.PrivateKeySize];
            var key = file.Kdf == Argon2id
                ? DeriveArgon2id(password, salt, new Argon2Cost(file.MemoryKiB ?? throw new KeyFileException("The key file names Argon2id but not its memory cost: the file is damaged."), file.Iterations))
                : DeriveKey(password, salt, Math.Max(file.Iterations, MinimumIterations));
            using (var aes = new AesGcm(key, tag.Length))
                aes.Decrypt(Convert.FromBase64String(file.Nonce), Convert.FromBase64String(file.Ciphertext), tag, privateKey, Associated(file.Approver));
            if (Convert.ToHexStringLower(Ed25519.PublicKeyOf(privateKey)) != file.PublicKey)
                throw new KeyFileException("The key file's private key does not match its public key: the file is damaged.");
            return (new ApproverId(file.Approver), privateKey);
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new KeyFileException("Wrong password for this key file (or the file was altered).");
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or CryptographicException)
        {
            throw new KeyFileException($"The key file is damaged ({ex.Message}).");
        }
    }

    private static byte[] DeriveKey(string password, byte[] salt, int iterations) =>
        Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, 32);

    private static byte[] DeriveArgon2id(string password, byte[] salt, Argon2Cost cost)
    {
        if (cost.MemoryKiB is < 8 * 1024 or > 4 * 1024 * 1024 || cost.Passes is < 1 or > 100)
            throw new KeyFileException("The key file's Argon2id cost is out of range: the file is damaged.");
        var algorithm = NSec.Cryptography.PasswordBasedKeyDerivationAlgorithm.Argon2id(
            new NSec.Cryptography.Argon2Parameters { DegreeOfParallelism = 1, MemorySize = cost.MemoryKiB, NumberOfPasses = cost.Passes });
        return algorithm.DeriveBytes(password, salt, 32);
    }

    private static byte[] Associated(string approver) => Encoding.UTF8.GetBytes(Format + "\n" + approver);

    private sealed record KeyFileDocument(
        [property: JsonPropertyName("format")] string Format,
        [property: JsonPropertyName("approver")] string Approver,
        [property: JsonPropertyName("publicKey")] string PublicKey,
        [property: JsonPropertyName("kdf")] string Kdf,
        [property: JsonPropertyName("iterations")] int Iterations,
        [property: JsonPropertyName("salt")] string Salt,
        [property: JsonPropertyName("nonce")] string Nonce,
        [property: JsonPropertyName("ciphertext")] string Ciphertext,
        [property: JsonPropertyName("tag")] string Tag,
        [property: JsonPropertyName("memoryKiB"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? MemoryKiB = null);
}

public sealed class KeyFileException(string message) : VaultException(message)
{
    public override FailureKind Kind => FailureKind.BadKey;
}
