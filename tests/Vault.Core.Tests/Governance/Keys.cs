using Vault.Core.Governance;

namespace Vault.Core.Tests.Governance;

/// <summary>Approvers with real Ed25519 keys, as tests hold them: private keys stay here, the rules get public keys.</summary>
public sealed class Keys
{
    public const string VaultId = "0123456789abcdef0123456789abcdef";
    private readonly Dictionary<string, byte[]> _private = new(StringComparer.Ordinal);

    public Keys(params string[] approvers)
    {
        foreach (var a in approvers)
            _private[a] = Ed25519.CreateKeyPair().PrivateKey;
    }

    public GovernanceRules Rules(int quorum, TimeSpan? coolingOff = null, TimeSpan? expiry = null) =>
        new([.. _private.Select(p => new Approver(p.Key, Ed25519.PublicKeyOf(p.Value)))], quorum, coolingOff, expiry);

    public byte[] Sign(string approver, SignedAction action, string requestId, IEnumerable<string> targets, string vaultId = VaultId) =>
        Ed25519.Sign(_private[approver], SigningPayload.For(vaultId, action, requestId, SigningPayload.TargetsDigest(targets)));

    public byte[] PrivateKeyOf(string approver) => _private[approver];

    public void Add(string approver) => _private[approver] = Ed25519.CreateKeyPair().PrivateKey;
}
