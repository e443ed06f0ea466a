using NSec.Cryptography;

namespace Vault.Core.Governance;

/// <summary>Ed25519 signing and checking over raw 32-byte keys (NSec). Approvers sign on their own machines; the vault only verifies.</summary>
public static class Ed25519
{
    public const int PublicKeySize = 32;
    public const int PrivateKeySize = 32;
    public const int SignatureSize = 64;
    private static readonly SignatureAlgorithm Algorithm = SignatureAlgorithm.Ed25519;

    /// <summary>A new key pair: (private seed, public key), both raw.</summary>
    public static (byte[] PrivateKey, byte[] PublicKey) CreateKeyPair()
    {
        using var key = Key.Create(Algorithm, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
        return (key.Export(KeyBlobFormat.RawPrivateKey), key.PublicKey.Export(KeyBlobFormat.RawPublicKey));
    }

    public static byte[] PublicKeyOf(byte[] privateKey)
    {
        using var key = Import(privateKey);
        return key.PublicKey.Export(KeyBlobFormat.RawPublicKey);
    }

    public static byte[] Sign(byte[] privateKey, ReadOnlySpan<byte> message)
    {
        using var key = Import(privateKey);
        return Algorithm.Sign(key, message);
    }

    public static bool Verify(byte[] publicKey, ReadOnlySpan<byte> message, byte[]? signature) =>
        signature is { Length: SignatureSize }
        && PublicKey.TryImport(Algorithm, publicKey, KeyBlobFormat.RawPublicKey, out var key)
        && Algorithm.Verify(key!, message, signature);

    public static bool IsValidPublicKey(byte[] publicKey) => PublicKey.TryImport(Algorithm, publicKey, KeyBlobFormat.RawPublicKey, out _);

    private static Key Import(byte[] privateKey) =>
        privateKey is { Length: PrivateKeySize }
            ? Key.Import(Algorithm, privateKey, KeyBlobFormat.RawPrivateKey, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport })
            : throw new ArgumentException($"An Ed25519 private key is {PrivateKeySize} bytes.", nameof(privateKey));
}
