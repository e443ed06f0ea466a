using Vault.Core.Governance;
using Vault.Core.Log;
using Vault.Core.Sets;
using Vault.Storage;

namespace Vault.Services;

/// <summary>Backup sets as the log records them.</summary>
public sealed class BackupSets(IEventLog log)
{
    public async Task<(BackupSetState State, long Version)> LoadAsync(string setId, CancellationToken cancellationToken = default)
    {
        var state = BackupSetState.Empty;
        var version = -1L;
        await foreach (var record in log.ReadStreamAsync(SetStreams.Of(setId), 0, cancellationToken))
        {
            version = record.StreamVersion;
            if (EventCodec.Decode(record) is { } e)
                state = state.Apply(e);
        }

        if (state.Status == SetStatus.Sealed && (await ListAsync(cancellationToken)).FirstOrDefault(s => s.Opened?.SetId == setId) is { Status: SetStatus.Deleted } deleted)
            state = deleted;
        return (state, version);
    }

    /// <summary>Lengthens a sealed set's retention when the approver's signature holds; appended to the set's stream.</summary>
    public async Task<RetentionExtended> ExtendRetentionAsync(ExtendRetention command, TimeProvider clock, CancellationToken cancellationToken = default)
    {
        var (vaultId, rules) = await GovernanceReader.ReadAsync(log, cancellationToken);
        var (state, version) = await LoadAsync(command.SetId, cancellationToken);
        var (extended, refusal) = RetentionDecider.Extend(state, command, new GovernanceContext(vaultId, rules, clock.GetUtcNow()));
        if (refusal is not null)
            throw new GovernanceRefusedException(refusal, recorded: false);
        await log.AppendAsync(SetStreams.Of(command.SetId), ExpectedVersion.Exactly(version), [EventCodec.Encode(extended!, command.ExtendedBy.Value)], cancellationToken);
        return extended!;
    }

    /// <summary>The segment recorded for one sequence of a set, if any.</summary>
    public async Task<SegmentStored?> SegmentAsync(string setId, long sequence, CancellationToken cancellationToken = default)
    {
        await foreach (var record in log.ReadStreamAsync(SetStreams.OfSegment(setId, sequence), 0, cancellationToken))
            return EventCodec.Decode(record) as SegmentStored;
        return null;
    }

    /// <summary>Every set, open, sealed or deleted, in the order they were opened.</summary>
    public async Task<IReadOnlyList<BackupSetState>> ListAsync(CancellationToken cancellationToken = default)
    {
        var sets = new Dictionary<string, BackupSetState>(StringComparer.Ordinal);
        await foreach (var record in log.ReadAllAsync(1, cancellationToken))
        {
            if (record.EventType is not (SetOpened.EventType or SetSealed.EventType or RetentionExtended.EventType or DeletionExecuted.EventType) || EventCodec.Decode(record) is not { } e)
                continue;
            var ids = e switch
            {
                SetOpened o => [o.SetId],
                SetSealed s => [s.SetId],
                RetentionExtended r => [r.SetId],
                DeletionExecuted d => d.Targets,
                _ => [],
            };
            foreach (var id in ids)
            {
                if (sets.TryGetValue(id, out var set) || e is SetOpened)
                    sets[id] = (set ?? BackupSetState.Empty).Apply(e);
            }
        }

        return [.. sets.Values];
    }
}
