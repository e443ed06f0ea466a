using Vault.Core.Errors;
using Vault.Core.Governance;
using Vault.Core.Vaults;
using Vault.Storage;

namespace Vault.Services;

/// <summary>
/// The rules in force at some point of the log: genesis, then every applied governance change, in order.
/// <see cref="Version"/> is the version of stream "vault" they were read at (0 while only genesis exists).
/// </summary>
public sealed record GovernanceState(string VaultId, GovernanceRules Rules, long Version, IReadOnlyList<(long Position, GovernanceChanged Change)> Changes);

/// <summary>The rules in force, derived by replaying the vault stream: genesis, then each GovernanceChanged.</summary>
public static class GovernanceReader
{
    public static async Task<(string VaultId, GovernanceRules Rules)> ReadAsync(IEventLog log, CancellationToken cancellationToken = default)
    {
        var state = await ReadStateAsync(log, null, cancellationToken);
        return (state.VaultId, state.Rules);
    }

    /// <summary>The rules in force after the record at <paramref name="upToPosition"/> (all of the log when null).</summary>
    public static async Task<GovernanceState> ReadStateAsync(IEventLog log, long? upToPosition, CancellationToken cancellationToken = default)
    {
        GovernanceState? state = null;
        await foreach (var record in log.ReadStreamAsync(VaultStreams.Vault, 0, cancellationToken))
        {
            if (record.Position > upToPosition)
                break;
            try
            {
                if (state is null && VaultCreated.From(record) is { } genesis)
                    state = new GovernanceState(genesis.VaultId, genesis.Governance.ToRules(), record.StreamVersion, []);
                else if (state is not null && EventCodec.Decode(record) is GovernanceChanged change)
                    state = state with { Rules = change.Governance.ToRules(), Version = record.StreamVersion, Changes = [.. state.Changes, (record.Position, change)] };
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException or System.Text.Json.JsonException)
            {
                throw new StorageCorruptException($"The vault stream holds governance rules that do not validate at position {record.Position} ({ex.Message}).", ex);
            }
        }

        return state ?? throw new StorageCorruptException("The vault's log has no genesis record on stream 'vault'.");
    }
}
