using Vault.Core.Governance;
using Vault.Storage;

namespace Vault.Services;

/// <summary>What the scheduler did with one request.</summary>
public sealed record DueOutcome(string RequestId, RequestKind Kind, string Action, int SegmentsRemoved);

/// <summary>
/// The service's schedule: records the expiry of requests that ran out of time without quorum, executes requests
/// that may execute now (quorum, delay passed, no veto, retention and holds allow), and finishes removals an earlier
/// run left unfinished. It only ever does what the quorum already decided; a request that would be refused (still
/// retained, held) is left alone, so waiting requests do not fill the log with refusals.
/// </summary>
public sealed class DueRequests(IEventLog log, ISegmentStore store, TimeProvider clock)
{
    public const string Actor = "scheduler";

    /// <summary>The action of the outcome that reports a checkpoint (its "request" names the position covered).</summary>
    public const string Checkpointed = "checkpointed";

    /// <summary>When set, each run also appends a checkpoint once enough records or time passed since the last.</summary>
    public (Checkpointer Checkpointer, long EveryRecords, TimeSpan Every)? Checkpoints { get; init; }

    public async Task<IReadOnlyList<DueOutcome>> RunOnceAsync(CancellationToken ct)
    {
        var service = new DeletionService(log, clock);
        var governance = await GovernanceReader.ReadStateAsync(log, null, ct);
        var context = new GovernanceContext(governance.VaultId, governance.Rules, clock.GetUtcNow(), governance.Version);
        var protections = BackupSets.Protections(await new BackupSets(log).ListAsync(ct));
        var executor = new DeletionExecutor(log, store, clock);
        var outcomes = new List<DueOutcome>();
        foreach (var view in await service.ListAsync(ct))
        {
            var state = view.State;
            if (DeletionDecider.IsExpired(state, context))
            {
                await service.DecideAsync(state.RequestId, Actor, DeletionDecider.Expire, ct);
                outcomes.Add(new DueOutcome(state.RequestId, state.Kind, "expired", 0));
            }
            else if (state.Status == DeletionStatus.QuorumReached && state.Kind != RequestKind.Rotation // rotation actions: 'vault request execute' on the primary
                     && DeletionDecider.Execute(state, protections, [], Actor, context).Accepted)
            {
                var result = await executor.ExecuteAsync(state.RequestId, Actor, ct);
                outcomes.Add(new DueOutcome(state.RequestId, state.Kind, "executed", result.SegmentsRemoved.Count));
                if (state.Kind == RequestKind.ChangeGovernance)
                    return outcomes; // the rules changed: the next run decides the rest under them
            }
            else if (state.Status == DeletionStatus.Executed && state.Kind == RequestKind.Delete
                     && view.Proof.Execution is { } done && await AnyLeftAsync(done.SegmentsToRemove, ct))
            {
                var result = await executor.ExecuteAsync(state.RequestId, Actor, ct);
                outcomes.Add(new DueOutcome(state.RequestId, state.Kind, "finished-removal", result.SegmentsRemoved.Count));
            }
        }

        return outcomes;
    }

    private async Task<bool> AnyLeftAsync(IReadOnlyList<string> segments, CancellationToken ct)
    {
        foreach (var hash in segments)
        {
            if (await store.ContainsAsync(Core.Segments.SegmentHash.Parse(hash), ct))
                return true;
        }

        return false;
    }

    /// <summary>Runs <see cref="RunOnceAsync"/> every <paramref name="period"/> until cancelled; failures are reported, not fatal.</summary>
    public async Task RunAsync(TimeSpan period, Action<IReadOnlyList<DueOutcome>> report, Action<Exception> failed, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var outcomes = await RunOnceAsync(ct);
                if (Checkpoints is { } c && await c.Checkpointer.MaybeAsync(c.EveryRecords, c.Every, ct) is { } checkpoint)
                    outcomes = [.. outcomes, new DueOutcome($"records 1 to {checkpoint.Position}", RequestKind.Delete, Checkpointed, 0)];
                if (outcomes.Count > 0)
                    report(outcomes);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                failed(ex);
            }

            try
            {
                await Task.Delay(period, clock, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
