using Vault.Core.Governance;
using Vault.Storage;

namespace Vault.Ops;

/// <summary>Every approver signature also covers the log head its signer saw, so each approval witnesses history (docs/governance.md).</summary>
public static class Witnessing
{
    public static async Task<Witness> SeenAsync(IEventLog log, CancellationToken ct)
    {
        var head = await log.ReadHeadAsync(ct);
        return new Witness(head.Position, head.HashHex);
    }
}
