using Vault.Core.Governance;
using Vault.Core.Log;
using Vault.Core.Sets;
using Vault.Storage;
using Vault.Storage.Log;

namespace Vault.Services;

/// <summary>Backup sets as the log records them.</summary>
public sealed class BackupSets(IEventLog log)
{
    /// <summary>One set as <see cref="ListAsync"/> proves it, and the version of its stream.</summary>
    public async Task<(BackupSetState State, long Version)> LoadAsync(string setId, CancellationToken cancellationToken = default)
    {
        var version = -1L;
        await foreach (var record in log.ReadStreamAsync(SetStreams.Of(setId), 0, cancellationToken))
            version = record.StreamVersion;
        if (version < 0)
            return (BackupSetState.Empty, version);
        var state = (await ListAsync(cancellationToken)).FirstOrDefault(s => s.Opened?.SetId == setId) ?? BackupSetState.Empty;
        return (state, version);
    }

    /// <summary>
    /// A set as its own stream alone gives it: opened, sealed (the set's own records, appended only by the vault under
    /// expected versions), and the stream's version. What ingest needs for each message, in one stream read instead of a
    /// scan of the log; it does not know deletions or hold releases, which need their requests proved (<see cref="LoadAsync"/>).
    /// </summary>
    public async Task<(BackupSetState State, long Version)> LoadStreamAsync(string setId, CancellationToken cancellationToken = default)
    {
        var state = BackupSetState.Empty;
        var version = -1L;
        await foreach (var record in log.ReadStreamAsync(SetStreams.Of(setId), 0, cancellationToken))
        {
            version = record.StreamVersion;
            if (record.EventType is SetOpened.EventType or SetSealed.EventType && EventCodec.Decode(record) is { } e)
                state = state.Apply(e);
        }

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

    /// <summary>Places a legal hold when the approver's signature holds; appended to the set's stream.</summary>
    public async Task<LegalHoldPlaced> PlaceHoldAsync(PlaceHold command, TimeProvider clock, CancellationToken cancellationToken = default, ISegmentStore? store = null)
    {
        // Under the removals lock, so a deletion deciding now sees the hold or finishes before it is placed.
        await using var removals = store is null ? null : await store.LockRemovalsAsync(cancellationToken);
        var (vaultId, rules) = await GovernanceReader.ReadAsync(log, cancellationToken);
        var (state, version) = await LoadAsync(command.SetId, cancellationToken);
        var (placed, refusal) = HoldDecider.Place(state, command, new GovernanceContext(vaultId, rules, clock.GetUtcNow()));
        if (refusal is not null)
            throw new GovernanceRefusedException(refusal, recorded: false);
        await log.AppendAsync(SetStreams.Of(command.SetId), ExpectedVersion.Exactly(version), [EventCodec.Encode(placed!, command.PlacedBy.Value)], cancellationToken);
        return placed!;
    }

    /// <summary>Has the request already released its hold on this set (an execution cut short before it was marked)?</summary>
    public async Task<bool> HoldReleasedByAsync(string setId, string requestId, CancellationToken cancellationToken = default)
    {
        await foreach (var record in log.ReadStreamAsync(SetStreams.Of(setId), 0, cancellationToken))
        {
            if (record.EventType == LegalHoldReleased.EventType && EventCodec.Decode(record) is LegalHoldReleased released && released.RequestId == requestId)
                return true;
        }

        return false;
    }

    /// <summary>What protects each sealed set from deletion: its retain-until and the holds in force.</summary>
    public static Dictionary<string, SetProtection> Protections(IEnumerable<BackupSetState> sets) =>
        sets.Where(s => s.Status == SetStatus.Sealed).ToDictionary(s => s.Sealed!.SetId, s => new SetProtection(s.RetainUntil, [.. s.Holds.Keys]), StringComparer.Ordinal);

    /// <summary>The segments already recorded for sets still open (a push under way): a deletion must not remove them.</summary>
    public async Task<HashSet<string>> OpenSetSegmentsAsync(IEnumerable<BackupSetState> sets, CancellationToken cancellationToken = default)
    {
        var open = sets.Where(s => s.Status == SetStatus.Open).Select(s => s.Opened!.SetId).ToHashSet(StringComparer.Ordinal);
        var hashes = new HashSet<string>(StringComparer.Ordinal);
        if (open.Count == 0)
            return hashes;
        await foreach (var record in log.ReadAllAsync(1, cancellationToken))
        {
            if (record.EventType == SegmentStored.EventType && EventCodec.Decode(record) is SegmentStored s && open.Contains(s.SetId))
                hashes.Add(s.Hash);
        }

        return hashes;
    }

    /// <summary>The segment recorded for one sequence of a set, if any.</summary>
    public async Task<SegmentStored?> SegmentAsync(string setId, long sequence, CancellationToken cancellationToken = default)
    {
        await foreach (var record in log.ReadStreamAsync(SetStreams.OfSegment(setId, sequence), 0, cancellationToken))
            return EventCodec.Decode(record) as SegmentStored;
        return null;
    }

    /// <summary>
    /// Every set, open, sealed or deleted, in the order they were opened. A set counts as deleted only when the
    /// request that deleted it is re-proved from its signatures (<see cref="RequestProof"/>); a recorded execution
    /// without that proof changes nothing here (and 'vault log verify' names it).
    /// </summary>
    private static readonly byte[] RequestStreams = System.Text.Encoding.UTF8.GetBytes(DeletionService.StreamPrefix);
    private static readonly byte[][] SetEventTypes = [.. new[] { SetOpened.EventType, SetSealed.EventType, RetentionExtended.EventType, LegalHoldPlaced.EventType, LegalHoldReleased.EventType }.Select(System.Text.Encoding.UTF8.GetBytes)];

    /// <summary>Request records and the set events that change a set's state; never the segment records (most of the log).</summary>
    private static bool Wanted(ReadOnlySpan<byte> streamId, ReadOnlySpan<byte> eventType)
    {
        if (streamId.StartsWith(RequestStreams))
            return true;
        foreach (var type in SetEventTypes)
        {
            if (eventType.SequenceEqual(type))
                return true;
        }

        return false;
    }

    /// <summary>Does a recorded hold release count: its request is a proved release of exactly that hold, executed or executable?</summary>
    public static bool ReleaseProved(LegalHoldReleased released, IReadOnlyList<(long Position, IRequestEvent Event)> requestRecords, GovernanceState governance) =>
        RequestProof.Of(requestRecords, p => governance.ContextAt(p, default)) is { State: { Kind: RequestKind.ReleaseHold } request } proof
        && request.Targets.SequenceEqual([RequestTargets.Hold(released.SetId, released.HoldId)])
        && (proof.Execution is not null || DeletionDecider.MayExecute(request, "replay", governance.ContextAt(long.MaxValue, released.At)) is null);

    /// <summary>The execution of a deletion request when its records prove it from the signatures; null otherwise.</summary>
    public static RequestExecuted? ProvedDeletion(IReadOnlyList<(long Position, IRequestEvent Event)> requestRecords, GovernanceState governance) =>
        RequestProof.Of(requestRecords, p => governance.ContextAt(p, default)) is { Execution: { } done, State.Kind: RequestKind.Delete } ? done : null;

    /// <summary>The records of one request, as the proofs above read them.</summary>
    public static async Task<List<(long Position, IRequestEvent Event)>> RequestRecordsAsync(IEventLog log, string requestId, CancellationToken cancellationToken)
    {
        var records = new List<(long, IRequestEvent)>();
        if (!DeletionService.IsValidId(requestId))
            return records;
        await foreach (var record in log.ReadStreamAsync(DeletionService.StreamOf(requestId), 0, cancellationToken))
        {
            if (EventCodec.Decode(record) is IRequestEvent e && e.RequestId == requestId)
                records.Add((record.Position, e));
        }

        return records;
    }

    public async Task<IReadOnlyList<BackupSetState>> ListAsync(CancellationToken cancellationToken = default)
    {
        var sets = new Dictionary<string, BackupSetState>(StringComparer.Ordinal);
        var requests = new Dictionary<string, List<(long, IRequestEvent)>>(StringComparer.Ordinal);
        var executed = new List<string>();
        var releases = new List<LegalHoldReleased>();
        await foreach (var record in log.ReadSelectedAsync(Wanted, cancellationToken))
        {
            if (record.StreamId.StartsWith(DeletionService.StreamPrefix, StringComparison.Ordinal))
            {
                if (EventCodec.Decode(record) is not IRequestEvent d)
                    continue;
                if (!requests.TryGetValue(d.RequestId, out var list))
                    requests[d.RequestId] = list = [];
                list.Add((record.Position, d));
                if (d is RequestExecuted)
                    executed.Add(d.RequestId);
                continue;
            }

            if (record.EventType is not (SetOpened.EventType or SetSealed.EventType or RetentionExtended.EventType or LegalHoldPlaced.EventType or LegalHoldReleased.EventType) || EventCodec.Decode(record) is not { } e)
                continue;
            if (e is LegalHoldReleased released)
            {
                releases.Add(released); // derived: it counts only once its request is proved, below
                continue;
            }

            var id = e switch
            {
                SetOpened o => o.SetId,
                SetSealed s => s.SetId,
                RetentionExtended r => r.SetId,
                LegalHoldPlaced h => h.SetId,
                LegalHoldReleased h => h.SetId,
                _ => null,
            };
            if (id is not null && (sets.TryGetValue(id, out var set) || e is SetOpened))
                sets[id] = (set ?? BackupSetState.Empty).Apply(e);
        }

        if (executed.Count > 0 || releases.Count > 0)
        {
            var governance = await GovernanceReader.ReadStateAsync(log, null, cancellationToken);
            foreach (var released in releases)
            {
                if (requests.TryGetValue(released.RequestId, out var records) && sets.TryGetValue(released.SetId, out var set) && ReleaseProved(released, records, governance))
                    sets[released.SetId] = set.Apply(released);
            }

            foreach (var requestId in executed.Distinct(StringComparer.Ordinal))
            {
                if (ProvedDeletion(requests[requestId], governance) is not { } done)
                    continue;
                foreach (var target in done.Targets)
                {
                    if (sets.TryGetValue(target, out var set))
                        sets[target] = set.Apply(done);
                }
            }
        }

        return [.. sets.Values];
    }
}
