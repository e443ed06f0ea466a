using Vault.Core.Governance;
using Vault.Core.Log;
using Vault.Core.Segments;
using Vault.Core.Sets;
using Vault.Core.Vaults;
using Vault.Core.ReadModels;
using Vault.Services.ReadModels;
using Vault.Storage;
using Vault.Storage.ReadModels;

namespace Vault.Services;

public sealed record ExecutionResult(DeletionRequestView View, IReadOnlyList<string> SegmentsRemoved, bool Completed);

/// <summary>
/// Carries out an executable request. A deletion: the decision (naming exactly the segments no remaining set
/// references) is appended first, then those bytes are removed; running it again finishes a removal a crash cut short.
/// A governance change or a hold release: the effect (GovernanceChanged on stream "vault", LegalHoldReleased on the
/// set's stream) is appended first, under the version it was decided on, then the request is marked executed; a run
/// that finds the effect already there only adds the mark.
/// </summary>
public sealed class DeletionExecutor(IEventLog log, ISegmentStore store, TimeProvider clock)
{
    /// <summary>
    /// The effect of an approved rotation request (kept by the rotation, above this layer): whether it is already
    /// applied, and applying it. Without one, rotation requests are refused here (run 'vault request execute').
    /// </summary>
    public (Func<DeletionRequestState, CancellationToken, Task<bool>> Applied, Func<DeletionRequestState, CancellationToken, Task> Apply)? Rotation { get; init; }

    /// <summary>Find unreferenced bytes from the segment references read model when the log keeps one (the default); false: read every manifest.</summary>
    public bool UseReadModels { get; init; } = true;

    public async Task<ExecutionResult> ExecuteAsync(string requestId, string actor, CancellationToken ct)
    {
        var service = new DeletionService(log, clock);
        var view = await service.LoadAsync(requestId, ct);
        if (view.State.Kind == RequestKind.Delete)
        {
            await using (await store.LockRemovalsAsync(ct))
                return await DeleteAsync(service, view, requestId, actor, ct);
        }

        var sets = await new BackupSets(log).ListAsync(ct);
        if (view.Proof.Execution is not null)
            return new ExecutionResult(view, [], Completed: true);
        var protections = BackupSets.Protections(sets);
        switch (view.State.Kind)
        {
            case RequestKind.ChangeGovernance:
                if ((await GovernanceReader.ReadStateAsync(log, null, ct)).Changes.Any(c => c.Change.RequestId == requestId))
                    return new ExecutionResult(await service.MarkExecutedAsync(view.State, actor, ct), [], Completed: true);
                view = await service.DecideAsync(requestId, actor, (state, context) => DeletionDecider.Execute(state, protections, [], actor, context), ct,
                    (state, context, token) => log.AppendAsync(VaultStreams.Vault, ExpectedVersion.Exactly(context.RulesVersion),
                        [EventCodec.Encode(new GovernanceChanged(state.RequestId, state.Governance!, state.Loosening, context.Now), actor)], token));
                return new ExecutionResult(view, [], Completed: false);

            case RequestKind.ReleaseHold:
                RequestTargets.TryParseHold(view.State.Targets[0], out var setId, out var holdId);
                var setStream = new BackupSets(log);
                if (await setStream.HoldReleasedByAsync(setId, requestId, ct))
                    return new ExecutionResult(await service.MarkExecutedAsync(view.State, actor, ct), [], Completed: true);
                view = await service.DecideAsync(requestId, actor, (state, context) => DeletionDecider.Execute(state, protections, [], actor, context), ct,
                    async (state, context, token) =>
                    {
                        var (_, version) = await setStream.LoadAsync(setId, token);
                        await log.AppendAsync(SetStreams.Of(setId), ExpectedVersion.Exactly(version),
                            [EventCodec.Encode(new LegalHoldReleased(setId, holdId, state.RequestId, context.Now), actor)], token);
                    });
                return new ExecutionResult(view, [], Completed: false);

            case RequestKind.Rotation:
                if (Rotation is not { } rotation)
                    throw new Vault.Core.Errors.VaultConfigurationException($"Request {requestId} is a rotation action; carry it out with 'vault request execute {requestId}' on the primary.");
                if (await rotation.Applied(view.State, ct))
                    return new ExecutionResult(await service.MarkExecutedAsync(view.State, actor, ct), [], Completed: true);
                view = await service.DecideAsync(requestId, actor, (state, context) => DeletionDecider.Execute(state, protections, [], actor, context), ct,
                    (state, _, token) => rotation.Apply(state, token));
                return new ExecutionResult(view, [], Completed: false);
        }

        throw new InvalidOperationException($"Unknown request kind {view.State.Kind}.");
    }

    /// <summary>
    /// A deletion, under the removals lock: the sets, their protections and what every other set references (sealed
    /// sets, and the segments already recorded for open ones) are read now, the decision is recorded, then the bytes
    /// no other set references are removed. Run again after a crash, it only finishes the removal, with the same care.
    /// </summary>
    private async Task<ExecutionResult> DeleteAsync(DeletionService service, DeletionRequestView view, string requestId, string actor, CancellationToken ct)
    {
        var sets = await new BackupSets(log).ListAsync(ct);
        var targets = view.State.Targets.ToHashSet(StringComparer.Ordinal);
        await using var references = await ReferencesAsync(sets, targets, ct);
        if (view.Proof.Execution is { } done)
        {
            var still = references is null ? await KeptAsync(sets, targets, ct) : await references.StillReferencedAsync(done.SegmentsToRemove, ct);
            return new ExecutionResult(view, await RemoveAsync([.. done.SegmentsToRemove.Where(h => !still.Contains(h))], ct), Completed: true);
        }

        var sealedTargets = sets.Where(s => s.Status == SetStatus.Sealed && targets.Contains(s.Sealed!.SetId)).ToArray();
        string[] segments;
        if (references is not null)
        {
            segments = [.. await references.ReferencedOnlyByAsync([.. sealedTargets.Select(s => s.Sealed!.SetId)], ct)];
        }
        else
        {
            var doomed = await ReferencedAsync(sealedTargets, ct);
            doomed.ExceptWith(await KeptAsync(sets, targets, ct));
            segments = [.. doomed.Order(StringComparer.Ordinal)];
        }

        var protections = BackupSets.Protections(sets);
        view = await service.DecideAsync(requestId, actor, (state, context) => DeletionDecider.Execute(state, protections, segments, actor, context), ct);
        return new ExecutionResult(view, await RemoveAsync(segments, ct), Completed: false);
    }

    /// <summary>What every set other than the targets references: sealed sets' manifests, and what open sets recorded so far.</summary>
    private async Task<HashSet<string>> KeptAsync(IReadOnlyList<BackupSetState> sets, HashSet<string> targets, CancellationToken ct)
    {
        var kept = await ReferencedAsync(sets.Where(s => s.Status == SetStatus.Sealed && !targets.Contains(s.Sealed!.SetId)), ct);
        kept.UnionWith(await new BackupSets(log).OpenSetSegmentsAsync(sets, ct));
        return kept;
    }

    /// <summary>
    /// The segment references read model, brought up to the log's head, when this log keeps read models and they agree
    /// with the replay just made on every target (sealed, with the same manifest) and know every set's references.
    /// Otherwise null, and the execution reads every manifest as it always did. Only which bytes are unreferenced
    /// comes from here; whether the deletion may execute (quorum, delay, holds, retention) is re-proved from the log.
    /// </summary>
    private async Task<IReadModelStore?> ReferencesAsync(IReadOnlyList<BackupSetState> sets, HashSet<string> targets, CancellationToken ct)
    {
        if (!UseReadModels || await ReadModelAccess.OpenIfAllowedAsync(log, store, ct) is not { } projector)
            return null;
        var models = projector.Store;
        await projector.CatchUpAsync(ct);
        var rows = await models.ReadSetsAsync(targets, ct);
        var agree = sets.Where(s => s.Opened is { } o && targets.Contains(o.SetId)).All(s =>
            rows.TryGetValue(s.Opened!.SetId, out var row) && row.Status == (int)s.Status && row.ManifestHash == s.Sealed?.ManifestHash);
        if (agree && (await models.StillReferencedAsync([SegmentReferences.Unknown], ct)).Count == 0)
            return models;
        await models.DisposeAsync();
        return null;
    }

    private async Task<HashSet<string>> ReferencedAsync(IEnumerable<BackupSetState> sets, CancellationToken ct)
    {
        var referenced = new HashSet<string>(StringComparer.Ordinal);
        foreach (var set in sets)
        {
            referenced.Add(set.Sealed!.ManifestHash);
            referenced.UnionWith((await SetRestorer.ReadManifestAsync(store, set.Sealed, ct)).SegmentHashes); // the sets are already read: no log scan per set
        }

        return referenced;
    }

    private async Task<IReadOnlyList<string>> RemoveAsync(IReadOnlyList<string> segments, CancellationToken ct)
    {
        var removed = new List<string>();
        foreach (var hash in segments)
        {
            if (await store.RemoveAsync(SegmentHash.Parse(hash), ct))
                removed.Add(hash);
        }

        return removed;
    }
}
