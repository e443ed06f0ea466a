using Vault.Core.Governance;

namespace Vault.Ops.Tests;

/// <summary>In-memory approver keys, for building rules directly.</summary>
public sealed class Keys
{
    private readonly List<Approver> _approvers = [.. new[] { "alice", "bob", "carol" }.Select(n => new Approver(n, Ed25519.CreateKeyPair().PublicKey))];

    public GovernanceRules Rules(int quorum) => new(_approvers, quorum);
}
