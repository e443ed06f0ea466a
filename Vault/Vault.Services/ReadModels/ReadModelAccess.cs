using Vault.Core.ReadModels;
using Vault.Core.Sets;
using Vault.Storage;
using Vault.Storage.Log;
using Vault.Storage.ReadModels;

namespace Vault.Services.ReadModels;

/// <summary>The read models of a log, opened and brought up to its head; and their check against a full replay.</summary>
public static class ReadModelAccess
{
    /// <summary>The projector over this log's read models, or null when the log keeps none (an as-of view, an export).</summary>
    public static async Task<ReadModelProjector?> OpenAsync(IEventLog log, ISegmentReader segments, CancellationToken cancellationToken) =>
        log is GroupCommitEventLog { ReadModels: { } source } ? new ReadModelProjector(log, segments, await source.OpenReadModelsAsync(cancellationToken)) : null;

    /// <summary>The projector, or null when the log keeps no read models or may not (a PostgreSQL vault made before them whose role may not create their schema).</summary>
    internal static async Task<ReadModelProjector?> OpenIfAllowedAsync(IEventLog log, ISegmentReader segments, CancellationToken cancellationToken)
    {
        try
        {
            return await OpenAsync(log, segments, cancellationToken);
        }
        catch (Vault.Core.Errors.StorageRefusedException)
        {
            return null;
        }
    }

    /// <summary>The read-model store of this log, or null when it keeps none or may not (as <see cref="OpenIfAllowedAsync"/>).</summary>
    public static async Task<IReadModelStore?> OpenStoreAsync(IEventLog log, CancellationToken cancellationToken)
    {
        try
        {
            return log is GroupCommitEventLog { ReadModels: { } source } ? await source.OpenReadModelsAsync(cancellationToken) : null;
        }
        catch (Vault.Core.Errors.StorageRefusedException)
        {
            return null;
        }
    }

    /// <summary>
    /// Every set from the read models, caught up first; without read models (or when they cannot be kept here, as on a
    /// PostgreSQL vault made before them whose role may not create their schema), from a replay of the log.
    /// </summary>
    public static async Task<IReadOnlyList<SetDocument>> ListSetsAsync(IEventLog log, ISegmentReader segments, CancellationToken cancellationToken)
    {
        if (await OpenIfAllowedAsync(log, segments, cancellationToken) is not { } projector)
            return [.. (await new BackupSets(log).ListAsync(cancellationToken)).Select(s => new SetDocument(s, 0, 0, 0, 0))];
        await using var store = projector.Store;
        await projector.CatchUpAsync(cancellationToken);
        return [.. (await store.ListSetsAsync(cancellationToken)).Select(SetDocument.FromRow)];
    }

    /// <summary>Every set as a listing shows it, from the read models caught up first; from a replay where there are none.</summary>
    public static async Task<IReadOnlyList<SetListingRow>> ListSetListingsAsync(IEventLog log, ISegmentReader segments, CancellationToken cancellationToken)
    {
        if (await OpenIfAllowedAsync(log, segments, cancellationToken) is not { } projector)
        {
            return [.. (await new BackupSets(log).ListAsync(cancellationToken)).Select(s => new SetListingRow(
                s.Opened!.SetId, s.Opened.Source, s.Opened.Kind, (int)s.Status, s.Sealed?.FileCount ?? 0, s.Sealed?.TotalBytes ?? 0, s.Opened.At, s.Sealed?.At, s.RetainUntil,
                s.Holds.Count == 0 ? null : System.Text.Json.JsonSerializer.Serialize(s.Holds.Values, SetDocument.RowJsonOptions)))];
        }

        await using var store = projector.Store;
        await projector.CatchUpAsync(cancellationToken);
        return await store.ListSetListingsAsync(cancellationToken);
    }

    /// <summary>
    /// The sealed sets sealed from <paramref name="from"/> to <paramref name="to"/> and every sealed set under a legal
    /// hold, in seal order: from the read models caught up first; from a replay where there are none.
    /// </summary>
    public static async Task<IReadOnlyList<SealedSetRow>> ListSealedSetsAsync(IEventLog log, ISegmentReader segments, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        if (await OpenIfAllowedAsync(log, segments, cancellationToken) is not { } projector)
        {
            return [.. (await new BackupSets(log).ListAsync(cancellationToken))
                .Where(s => s.Status == SetStatus.Sealed && ((s.Sealed!.At >= from && s.Sealed.At <= to) || s.Holds.Count > 0))
                .Select(s => new SealedSetRow(s.Sealed!.SetId, s.Opened!.Source, s.Sealed.At, s.Sealed.ManifestHash, s.Holds.Count > 0))
                .OrderBy(s => s.SealedAt).ThenBy(s => s.SetId, StringComparer.Ordinal)];
        }

        await using var store = projector.Store;
        await projector.CatchUpAsync(cancellationToken);
        return await store.ListSealedSetsAsync(from, to, cancellationToken);
    }

    /// <summary>Every protected request from the read models, caught up first; from a replay where there are none.</summary>
    public static async Task<IReadOnlyList<Vault.Core.Governance.DeletionRequestState>> ListRequestsAsync(IEventLog log, ISegmentReader segments, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (await OpenIfAllowedAsync(log, segments, cancellationToken) is not { } projector)
            return [.. (await new DeletionService(log, clock).ListAsync(cancellationToken)).Select(v => v.State)];
        await using var store = projector.Store;
        await projector.CatchUpAsync(cancellationToken);
        return [.. (await store.ListRequestsAsync(cancellationToken)).Select(r => System.Text.Json.JsonSerializer.Deserialize<Vault.Core.Governance.DeletionRequestState>(r.StateJson, EventCodec.Json)!)];
    }

    /// <summary>
    /// Where the read models differ from a full replay of the log and the manifests: one sentence per difference, none
    /// when they agree. The read models are first brought up to the head; the replay is made at that head.
    /// </summary>
    public static async Task<IReadOnlyList<string>> VerifyAsync(IEventLog log, ISegmentReader segments, ReadModelProjector projector, CancellationToken cancellationToken)
    {
        // A running service may append meanwhile: a comparison counts only when the log did not move during it.
        for (var attempt = 1; ; attempt++)
        {
            var caught = await projector.CatchUpAsync(cancellationToken);
            var differences = await CompareAsync(log, segments, projector, cancellationToken);
            var head = await log.ReadHeadAsync(cancellationToken);
            if (head.Position == caught.Checkpoint.Position || differences.Count == 0)
                return differences;
            if (attempt == 5)
                return [.. differences, $"the log kept moving while verifying (read models at {caught.Checkpoint.Position}, head {head.Position}): run it again when writes pause"];
        }
    }

    private static async Task<List<string>> CompareAsync(IEventLog log, ISegmentReader segments, ReadModelProjector projector, CancellationToken cancellationToken)
    {
        var differences = new List<string>();
        var replay = await new BackupSets(log).ListAsync(cancellationToken);
        var rows = (await projector.Store.ListSetsAsync(cancellationToken)).ToDictionary(r => r.SetId, StringComparer.Ordinal);
        var recorded = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        await foreach (var record in log.ReadAllAsync(1, cancellationToken))
        {
            if (record.EventType == SegmentStored.EventType && EventCodec.Decode(record) is SegmentStored s)
                (recorded.TryGetValue(s.SetId, out var set) ? set : recorded[s.SetId] = new HashSet<string>(StringComparer.Ordinal)).Add(s.Hash);
        }

        var references = (await projector.Store.ListReferencesAsync(cancellationToken)).GroupBy(r => r.SetId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(r => r.Hash).ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var state in replay)
        {
            var id = state.Opened!.SetId;
            if (!rows.Remove(id, out var row))
            {
                differences.Add($"set {id} is in the log but not in the read models");
                continue;
            }

            var projected = SetDocument.FromRow(row).State;
            if (System.Text.Json.JsonSerializer.Serialize(projected, EventCodec.Json) != System.Text.Json.JsonSerializer.Serialize(state, EventCodec.Json))
                differences.Add($"set {id}: the read models say {projected.Status} (retained until {projected.RetainUntil:u}, {projected.Holds.Count} holds), a replay says {state.Status} (retained until {state.RetainUntil:u}, {state.Holds.Count} holds)");
            var expected = state.Status switch
            {
                SetStatus.Open => recorded.GetValueOrDefault(id) ?? [],
                SetStatus.Sealed => [.. (await SetRestorer.ReadManifestAsync(segments, state.Sealed!, cancellationToken)).SegmentHashes.Append(state.Sealed!.ManifestHash)],
                _ => new HashSet<string>(StringComparer.Ordinal),
            };
            var actual = references.GetValueOrDefault(id) ?? [];
            if (!actual.SetEquals(expected))
                differences.Add($"set {id}: the read models give {actual.Count} segment references, a replay {expected.Count} ({actual.Except(expected).Count()} extra, {expected.Except(actual).Count()} missing)");
        }

        differences.AddRange(rows.Keys.Select(id => $"set {id} is in the read models but not in the log"));

        var requests = (await projector.Store.ListRequestsAsync(cancellationToken)).ToDictionary(r => r.RequestId, StringComparer.Ordinal);
        foreach (var view in await new DeletionService(log, TimeProvider.System).ListAsync(cancellationToken))
        {
            var id = view.State.RequestId;
            if (!DeletionService.IsValidId(id))
                continue;
            var replayed = System.Text.Json.JsonSerializer.Serialize(view.State, EventCodec.Json);
            if (!requests.Remove(id, out var row))
                differences.Add($"request {id} is in the log but not in the read models");
            else if (System.Text.Json.JsonSerializer.Serialize(System.Text.Json.JsonSerializer.Deserialize<Vault.Core.Governance.DeletionRequestState>(row.StateJson, EventCodec.Json), EventCodec.Json) != replayed)
                // (read back and written again here: the approvals' order in the JSON follows the writing process's string hashing)
                differences.Add($"request {id}: the read models say {(Vault.Core.Governance.DeletionStatus)row.Status}, a replay says {view.State.Status}");
        }

        differences.AddRange(requests.Keys.Select(id => $"request {id} is in the read models but not in the log"));
        return differences;
    }
}
