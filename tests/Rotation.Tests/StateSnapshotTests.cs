using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Rotation.Core;

namespace Rotation.Tests;

/// <summary>
/// A snapshot of the rotation's fold, taken after any record and continued with the records after it, answers every
/// question a replay of all records answers: media, chain, what was written where, the plans of the coming days and
/// what survives the loss of each site. Histories from the simulator, with small pools so media are recycled and
/// writes fall out of the snapshot.
/// </summary>
public sealed class StateSnapshotTests
{
    private static readonly DateOnly Start = new(2026, 3, 2);

    [Property(MaxTest = 12)]
    public void a_snapshot_continued_with_later_records_answers_as_a_replay_does(PositiveInt seed, NormalFloat cutAt)
    {
        var events = new List<IRotationEvent>();
        IReadOnlyList<SetInfo> sets = [];
        var days = 90 + seed.Get % 120;
        var policy = RotationPolicy.Default(capacityBytes: 64L << 20);
        Simulator.Run(policy, new SimulationOptions(Start, days, Sources: 1 + seed.Get % 3, SegmentsPerSet: 12, Seed: seed.Get, LabelWhenExhausted: true),
            (_, _, all, _) => sets = all, events.Add);
        var cut = (int)(Math.Abs(cutAt.Get) * 7919 % events.Count);

        var replay = RotationState.Fold(events);
        var continued = RotationState.FromSnapshot(RotationStateSnapshot.Parse(RotationState.Fold(events.Take(cut)).ToSnapshot().ToUtf8()));
        foreach (var e in events.Skip(cut))
            continued.Apply(e);
        // And a snapshot of the whole, read back once more (what the next command starts from).
        var again = RotationState.FromSnapshot(RotationStateSnapshot.Parse(continued.ToSnapshot().ToUtf8()));

        foreach (var state in new[] { continued, again })
        {
            Assert.Equal(Describe(replay, sets, Start.AddDays(days)), Describe(state, sets, Start.AddDays(days)));
            Assert.Equal(replay.NextLabel(policy.Pools[0]), state.NextLabel(policy.Pools[0]));
        }

        Assert.True(replay.Writes.Count >= again.Writes.Count);
    }

    /// <summary>Everything a reader asks of the state, as text.</summary>
    private static string Describe(RotationState state, IReadOnlyList<SetInfo> sets, DateOnly from)
    {
        var parts = new List<string>
        {
            JsonSerializer.Serialize(state.Media.Values.OrderBy(m => m.Label, StringComparer.Ordinal), RotationStateSnapshot.Json),
            string.Join(",", state.Chain.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key}@{c.Value.Label}/{c.Value.WriteId}")),
            string.Join(",", state.WrittenAnywhere.Order(StringComparer.Ordinal)),
            string.Join(";", state.WrittenByPool.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}:{string.Join(",", p.Value.Order(StringComparer.Ordinal))}")),
            string.Join(",", state.LastFullBySource.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}")),
            $"{state.EventCount} {state.LastDate} {state.Drills.Count}",
        };
        for (var day = 0; day < 10; day++)
            parts.Add(JsonSerializer.Serialize(Planner.Plan(state, sets, from.AddDays(day)), RotationStateSnapshot.Json));
        foreach (var site in state.Policy!.Sites)
            parts.Add(JsonSerializer.Serialize(SiteLoss.Evaluate(state, sets, state.Policy, site.Name, from, physical: true), RotationStateSnapshot.Json));
        foreach (var set in sets.TakeLast(20))
            parts.Add($"{set.SetId}: {string.Join(",", Planner.SitesHolding(state, set, state.Policy).Order(StringComparer.Ordinal))}");
        return string.Join("\n", parts);
    }
}
