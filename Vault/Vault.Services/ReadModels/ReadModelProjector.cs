using System.Diagnostics;
using Vault.Core.Governance;
using Vault.Core.Log;
using Vault.Core.ReadModels;
using Vault.Core.Sets;
using Vault.Storage;
using Vault.Storage.Log;
using Vault.Storage.ReadModels;

namespace Vault.Services.ReadModels;

/// <summary>
/// What one catch-up did: where the read models stand now, how many records it applied, whether it rebuilt, and when
/// the oldest record it applied was committed to the log (the read models' lag is measured from there).
/// </summary>
public sealed record CatchUp(ReadModelCheckpoint Checkpoint, long Applied, bool Rebuilt, TimeSpan Elapsed, DateTimeOffset? OldestRecordedAt = null);

/// <summary>
/// Folds the log into the read models (sets, segment references), in log order, from their checkpoint to the head.
/// The projection itself is <see cref="SetDocument.Apply"/> and <see cref="SegmentReferences.Apply"/> (Vault.Core);
/// this class reads records, proves what must be proved before it counts (a deletion, a hold release: from the
/// signatures, as a replay does), reads a sealed set's manifest, and commits each batch with its checkpoint.
/// Before it goes on from a checkpoint it checks that the log still has that record with that hash; when it does not
/// (the log was replaced, or the read models belong to another), it rebuilds from the first record.
/// </summary>
public sealed class ReadModelProjector(IEventLog log, ISegmentReader segments, IReadModelStore models, int batchRecords = 20_000)
{
    private ReadModelCheckpoint? _known;

    public IReadModelStore Store => models;

    /// <summary>Brings the read models up to the log's head as it is now; safe to run from several processes at once.</summary>
    public async Task<CatchUp> CatchUpAsync(CancellationToken cancellationToken, IProgress<(long Position, long Head)>? progress = null)
    {
        var watch = Stopwatch.StartNew();
        var applied = 0L;
        var rebuilt = false;
        DateTimeOffset? oldest = null;
        var head = await log.ReadHeadAsync(cancellationToken);
        GovernanceState? governance = null;
        while (true)
        {
            var checkpoint = await models.ReadCheckpointAsync(cancellationToken);
            if (checkpoint.Position > head.Position)
                head = await log.ReadHeadAsync(cancellationToken); // another projector folded records appended since this one looked
            if (!checkpoint.Equals(_known) && !await StillOnLogAsync(checkpoint, head, cancellationToken))
            {
                await models.ResetAsync(cancellationToken);
                rebuilt = true;
                continue;
            }

            if (checkpoint.Position >= head.Position)
                return new CatchUp(checkpoint, applied, rebuilt, watch.Elapsed, oldest);

            var records = new List<EventRecord>(Math.Min(batchRecords, (int)Math.Min(int.MaxValue, head.Position - checkpoint.Position)));
            await foreach (var record in log.ReadAllAsync(checkpoint.Position + 1, cancellationToken))
            {
                records.Add(record);
                if (records.Count == batchRecords || record.Position == head.Position)
                    break;
            }

            if (records.Count == 0)
                return new CatchUp(checkpoint, applied, rebuilt, watch.Elapsed, oldest);
            var batch = new ReadModelBatch();
            governance = await ApplyAsync(records, batch, governance, cancellationToken);
            Coalesce(batch.References);
            var last = records[^1];
            if (await models.CommitAsync(checkpoint, new ReadModelCheckpoint(last.Position, last.Hash), batch, cancellationToken))
            {
                _known = new ReadModelCheckpoint(last.Position, last.Hash); // a record this projector read from this log: no need to look again
                applied += records.Count;
                oldest ??= records[0].RecordedAt;
                progress?.Report((last.Position, head.Position));
            }
        }
    }

    /// <summary>Empties the read models and folds the whole log again.</summary>
    public async Task<CatchUp> RebuildAsync(CancellationToken cancellationToken, IProgress<(long Position, long Head)>? progress = null)
    {
        await models.ResetAsync(cancellationToken);
        return await CatchUpAsync(cancellationToken, progress) with { Rebuilt = true };
    }

    /// <summary>
    /// One change per set where the batch made several: additions merged, and whatever came before a seal's or a
    /// deletion's replacement dropped (it replaces them). The store then writes each set's references once.
    /// </summary>
    private static void Coalesce(List<ReferenceChange> changes)
    {
        if (changes.Count < 2)
            return;
        var bySet = new Dictionary<string, (ReferenceChangeKind Kind, HashSet<string> Hashes)>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var change in changes)
        {
            if (!bySet.TryGetValue(change.SetId, out var merged))
                order.Add(change.SetId);
            bySet[change.SetId] = change.Kind != ReferenceChangeKind.Add || !bySet.ContainsKey(change.SetId)
                ? (change.Kind, new HashSet<string>(change.Hashes, StringComparer.Ordinal))
                : (merged.Kind, [.. merged.Hashes, .. change.Hashes]);
        }

        changes.Clear();
        changes.AddRange(order.Select(id => new ReferenceChange(id, bySet[id].Kind, bySet[id].Hashes)));
    }

    private async Task<bool> StillOnLogAsync(ReadModelCheckpoint checkpoint, LogHead head, CancellationToken ct)
    {
        if (checkpoint.Position == 0)
            return true;
        if (checkpoint.Position < 0 || checkpoint.Position > head.Position)
            return false; // another projection format, or a log shorter than what was folded
        await foreach (var record in log.ReadAllAsync(checkpoint.Position, ct))
            return record.Position == checkpoint.Position && record.Hash.AsSpan().SequenceEqual(checkpoint.Hash);
        return false;
    }

    private async Task<GovernanceState?> ApplyAsync(List<EventRecord> records, ReadModelBatch batch, GovernanceState? governance, CancellationToken ct)
    {
        var decoded = new List<(long Position, object Event)>(records.Count);
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        var requests = new Dictionary<string, long>(StringComparer.Ordinal); // request id -> position of its last record here
        foreach (var record in records)
        {
            if (record.StreamId.StartsWith(DeletionService.StreamPrefix, StringComparison.Ordinal) && DeletionService.IsValidId(record.StreamId[DeletionService.StreamPrefix.Length..]))
                requests[record.StreamId[DeletionService.StreamPrefix.Length..]] = record.Position;
            if (!Relevant(record) || EventCodec.Decode(record) is not { } e)
                continue;
            decoded.Add((record.Position, e));
            if (SetDocument.SetOf(e) is { } id)
                wanted.Add(id);
        }

        if (requests.Count > 0)
        {
            governance ??= await GovernanceReader.ReadStateAsync(log, null, ct);
            foreach (var (id, position) in requests)
            {
                if (await RequestRowAsync(id, position, governance, ct) is { } row)
                    batch.Requests[id] = row;
            }
        }

        if (decoded.Count == 0)
            return governance;
        var documents = new Dictionary<string, SetDocument?>(StringComparer.Ordinal);
        foreach (var (id, row) in await models.ReadSetsAsync(wanted, ct))
            documents[id] = SetDocument.FromRow(row);

        foreach (var (position, e) in decoded)
        {
            switch (e)
            {
                case RequestExecuted executed:
                    // Counts only when its request is proved from the signatures, as in a replay ('vault log verify' names the others).
                    governance ??= await GovernanceReader.ReadStateAsync(log, null, ct);
                    if (BackupSets.ProvedDeletion(await BackupSets.RequestRecordsAsync(log, executed.RequestId, ct), governance) is not { } done)
                        break;
                    foreach (var target in done.Targets)
                        await FoldAsync(target, position, done, documents, batch, ct);
                    break;
                case LegalHoldReleased released:
                    governance ??= await GovernanceReader.ReadStateAsync(log, null, ct);
                    if (BackupSets.ReleaseProved(released, await BackupSets.RequestRecordsAsync(log, released.RequestId, ct), governance))
                        await FoldAsync(released.SetId, position, released, documents, batch, ct);
                    break;
                default:
                    if (SetDocument.SetOf(e) is { } setId)
                        await FoldAsync(setId, position, e, documents, batch, ct);
                    break;
            }
        }

        foreach (var id in batch.Sets.Keys.ToArray())
            batch.Sets[id] = documents[id]!.ToRow();
        return governance;
    }

    private async Task FoldAsync(string setId, long position, object e, Dictionary<string, SetDocument?> documents, ReadModelBatch batch, CancellationToken ct)
    {
        if (!documents.TryGetValue(setId, out var before))
        {
            before = (await models.ReadSetsAsync([setId], ct)).TryGetValue(setId, out var row) ? SetDocument.FromRow(row) : null;
            documents[setId] = before;
        }

        var after = SetDocument.Apply(before, position, e);
        if (after is null || ReferenceEquals(after, before))
            return;
        documents[setId] = after;
        batch.Sets[setId] = null!; // marked changed; its row is made once, at the end of the batch
        if (before is null)
            return;
        Manifest? manifest = null;
        if (e is SetSealed sealedSet && before.State.Status == SetStatus.Open)
            manifest = await ManifestOrNullAsync(sealedSet, ct);
        var change = e is SetSealed s && before.State.Status == SetStatus.Open && manifest is null
            ? new ReferenceChange(setId, ReferenceChangeKind.Replace, [s.ManifestHash, SegmentReferences.Unknown])
            : SegmentReferences.Apply(before.State, e, manifest);
        if (change is not null)
            batch.References.Add(change);
    }

    /// <summary>
    /// A request as 'vault request list' shows it: every request record of its stream, re-proved from the signatures
    /// (<see cref="RequestProof"/>) under the rules in force at each record, as <see cref="DeletionService"/> does.
    /// </summary>
    private async Task<RequestRow?> RequestRowAsync(string requestId, long changedAt, GovernanceState governance, CancellationToken ct)
    {
        var records = new List<(long Position, IRequestEvent Event)>();
        await foreach (var record in log.ReadStreamAsync(DeletionService.StreamOf(requestId), 0, ct))
        {
            if (EventCodec.Decode(record) is IRequestEvent e)
                records.Add((record.Position, e));
        }

        if (records.Count == 0)
            return null;
        var state = RequestProof.Of(records, p => governance.ContextAt(p, default)).State;
        if (state.Status == DeletionStatus.None)
            return null; // no valid request record at all: nothing to list
        return new RequestRow(requestId, (int)state.Kind, (int)state.Status, System.Text.Json.JsonSerializer.Serialize(state, EventCodec.Json), records[0].Position, changedAt);
    }

    /// <summary>A sealed set's manifest; null when it cannot be read (the set's references are then unknown, and no deletion trusts them).</summary>
    private async Task<Manifest?> ManifestOrNullAsync(SetSealed sealedSet, CancellationToken ct)
    {
        try
        {
            return await SetRestorer.ReadManifestAsync(segments, sealedSet, ct);
        }
        catch (Vault.Core.Errors.StorageCorruptException)
        {
            return null;
        }
    }

    private static bool Relevant(EventRecord record) => record.EventType is SetOpened.EventType or SegmentStored.EventType or SetSealed.EventType
        or RetentionExtended.EventType or LegalHoldPlaced.EventType or LegalHoldReleased.EventType or RequestExecuted.EventType
        || (record.StreamId.StartsWith(DeletionService.StreamPrefix, StringComparison.Ordinal) && record.EventType == "DeletionExecuted.v1");
}
