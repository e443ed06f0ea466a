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
            if (record.EventType is not (SetOpened.EventType or SetSealed.EventType or DeletionExecuted.EventType) || EventCodec.Decode(record) is not { } e)
                continue;
            var ids = e switch
            {
                SetOpened o => [o.SetId],
                SetSealed s => [s.SetId],
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
