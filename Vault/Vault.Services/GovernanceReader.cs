using Vault.Core.Errors;
using Vault.Core.Governance;
using Vault.Core.Vaults;
using Vault.Storage;

namespace Vault.Services;

/// <summary>The rules in force, derived by replaying the vault stream (genesis; governance changes when they exist).</summary>
public static class GovernanceReader
{
    public static async Task<(string VaultId, GovernanceRules Rules)> ReadAsync(IEventLog log, CancellationToken cancellationToken = default)
    {
        await foreach (var record in log.ReadStreamAsync(VaultStreams.Vault, 0, cancellationToken))
        {
            if (VaultCreated.From(record) is { } genesis)
            {
                try
                {
                    return (genesis.VaultId, genesis.Governance.ToRules());
                }
                catch (Exception ex) when (ex is ArgumentException or FormatException)
                {
                    throw new StorageCorruptException($"The vault's genesis holds governance rules that do not validate ({ex.Message}).", ex);
                }
            }
        }

        throw new StorageCorruptException("The vault's log has no genesis record on stream 'vault'.");
    }
}
