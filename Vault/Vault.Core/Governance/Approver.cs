namespace Vault.Core.Governance;

/// <summary>A person who may request, approve or veto: a name and an Ed25519 public key (32 bytes). The private key never enters the vault.</summary>
public sealed record Approver
{
    public Approver(ApproverId id, byte[] publicKey)
    {
        if (publicKey is not { Length: Ed25519.PublicKeySize } || !Ed25519.IsValidPublicKey(publicKey))
            throw new ArgumentException($"Approver {id}'s public key is not an Ed25519 public key of {Ed25519.PublicKeySize} bytes.", nameof(publicKey));
        Id = id;
        PublicKey = publicKey;
    }

    public ApproverId Id { get; }
    public byte[] PublicKey { get; }

    public string PublicKeyHex => Convert.ToHexStringLower(PublicKey);
}
