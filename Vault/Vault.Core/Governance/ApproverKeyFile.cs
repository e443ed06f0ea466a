using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Vault.Core.Errors;

namespace Vault.Core.Governance;

/// <summary>
/// An approver's private key at rest: JSON naming the approver and public key, with the 32-byte Ed25519 seed sealed by
/// AES-256-GCM under a key derived from the password with PBKDF2-HMAC-SHA256. The vault never sees this file.
/// </summary>
public static class ApproverKeyFile
{
    public const string Format = "vault-approver-key/v1";
    public const int DefaultIterations = 600_000;
    public const int MinimumIterations = 10_000;

    public static byte[] Seal(ApproverId approver, byte[] privateKey, string password, int iterations = DefaultIterations)
    {
        if (string.IsNullOrEmpty(password))
            throw new KeyFileException("A key file needs a password: an approver key on disk without one is one stolen laptop away from a deletion.");
        if (iterations < MinimumIterations)
            throw new KeyFileException($"At least {MinimumIterations} PBKDF2 iterations.");
        var salt = RandomNumberGenerator.GetBytes(16);
        var nonce = RandomNumberGenerator.GetBytes(12);
        var ciphertext = new byte[privateKey.Length];
        var tag = new byte[16];
        using (var aes = new AesGcm(DeriveKey(password, salt, iterations), tag.Length))
            aes.Encrypt(nonce, privateKey, ciphertext, tag, Associated(approver.Value));
        var file = new KeyFileDocument(Format, approver.Value, Convert.ToHexStringLower(Ed25519.PublicKeyOf(privateKey)), "pbkdf2-sha256", iterations,
            Convert.ToBase64String(salt), Convert.ToBase64String(nonce), Convert.ToBase64String(ciphertext), Convert.ToBase64String(tag));
        return JsonSerializer.SerializeToUtf8Bytes(file, new JsonSerializerOptions { WriteIndented = true });
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

        if (file is null || file.Format != Format || file.Kdf != "pbkdf2-sha256")
            throw new KeyFileException($"This is not an approver key file ({Format}); make one with 'vault approver keygen'.");
        try
        {
            var salt = Convert.FromBase64String(file.Salt);
            var tag = Convert.FromBase64String(file.Tag);
            var privateKey = new byte[Ed25519.PrivateKeySize];
            using (var aes = new AesGcm(DeriveKey(password, salt, Math.Max(file.Iterations, MinimumIterations)), tag.Length))
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
        [property: JsonPropertyName("tag")] string Tag);
}

public sealed class KeyFileException(string message) : VaultException(message)
{
    public override FailureKind Kind => FailureKind.BadKey;
}
