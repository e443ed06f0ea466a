using Vault.Core.Governance;
using Vault.Core.Segments;
using Vault.Core.Sets;
using Vault.Storage;

namespace Vault.Services;

public sealed record ExecutionResult(DeletionRequestView View, IReadOnlyList<string> SegmentsRemoved, bool Completed);

/// <summary>
/// Executes an executable deletion request: the decision (naming exactly the segments no remaining set references)
/// is appended first, then those bytes are removed. Running it again on an executed request finishes a removal that
/// a crash cut short, and appends nothing.
/// </summary>
public sealed class DeletionExecutor(IEventLog log, ISegmentStore store, TimeProvider clock)
{
    public async Task<ExecutionResult> ExecuteAsync(string requestId, string actor, CancellationToken ct)
    {
        var service = new DeletionService(log, clock);
        var view = await service.LoadAsync(requestId, ct);
        if (view.Events.OfType<DeletionExecuted>().LastOrDefault() is { } done)
            return new ExecutionResult(view, await RemoveAsync(done.SegmentsRemoved, ct), Completed: true);

        var sets = await new BackupSets(log).ListAsync(ct);
        var sealedSets = sets.Where(s => s.Status == SetStatus.Sealed).ToDictionary(s => s.Sealed!.SetId, StringComparer.Ordinal);
        var protections = sealedSets.ToDictionary(p => p.Key, p => new SetProtection(p.Value.RetainUntil, []), StringComparer.Ordinal);
        var targets = view.State.Targets.ToHashSet(StringComparer.Ordinal);
        var doomed = new HashSet<string>(StringComparer.Ordinal);
        var kept = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (id, set) in sealedSets)
        {
            var referenced = targets.Contains(id) ? doomed : kept;
            referenced.Add(set.Sealed!.ManifestHash);
            referenced.UnionWith((await new SetRestorer(log, store).ManifestAsync(id, ct)).SegmentHashes);
        }

        doomed.ExceptWith(kept);
        var segments = doomed.Order(StringComparer.Ordinal).ToArray();
        view = await service.DecideAsync(requestId, actor, (state, context) => DeletionDecider.Execute(state, protections, segments, actor, context), ct);
        return new ExecutionResult(view, await RemoveAsync(segments, ct), Completed: false);
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
