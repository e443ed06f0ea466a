using Rotation.Core;
using Snapshooter.Xunit;

namespace Rotation.Tests;

/// <summary>
/// Approval snapshots of 60 days of plans, under the default policy and a custom one: any change to what the planner
/// decides (which pool, which media, what is shipped, recalled, recycled) shows up as a diff to review and approve.
/// </summary>
public sealed class PlanSnapshotTests
{
    private static readonly DateOnly Start = new(2026, 1, 1);

    /// <summary>One line per day: the plan the nightly run acted on, in words, so a diff is readable.</summary>
    private static List<string> SixtyDays(RotationPolicy policy)
    {
        var days = new List<string>();
        Simulator.Run(policy, new SimulationOptions(Start, 60, Sources: 2, SegmentsPerSet: 12, SegmentBytes: 3L << 20), (date, _, _, night) =>
        {
            var p = night.Plan;
            var parts = new List<string>();
            parts.AddRange(p.Writes.Select(w => $"write {w.Pool}/{w.Kind.ToString().ToLowerInvariant()} {w.Sets.Count} sets {w.Segments} segs on {string.Join("+", w.Media)}"));
            parts.AddRange(p.Expire.Select(l => $"expire {l}"));
            parts.AddRange(p.Recycle.Select(l => $"recycle {l}"));
            parts.AddRange(p.Retire.Select(l => $"retire {l}"));
            parts.AddRange(p.Arrivals.Select(l => $"arrive {l}"));
            parts.AddRange(p.Shipments.Select(m => $"ship {m.Label}>{m.To}"));
            parts.AddRange(p.Recalls.Select(m => $"recall {m.Label}<{m.From}"));
            parts.AddRange(p.Warnings.Concat(night.Skipped).Select(w => $"warn {w.Code}"));
            if (night.Labeled > 0)
                parts.Add($"labeled {night.Labeled}");
            days.Add($"{date:yyyy-MM-dd} {date.DayOfWeek.ToString()[..3]}: {(parts.Count == 0 ? "-" : string.Join("; ", parts))}");
        });
        return days;
    }

    [Fact]
    public void sixty_days_under_the_default_grandfather_father_son_policy() =>
        Snapshot.Match(SixtyDays(RotationPolicy.Default(capacityBytes: 48L << 20)));

    [Fact]
    public void sixty_days_under_a_custom_policy_with_few_media_few_passes_and_a_slow_courier()
    {
        var every = new[] { DayOfWeek.Monday, DayOfWeek.Tuesday, DayOfWeek.Wednesday, DayOfWeek.Thursday, DayOfWeek.Friday };
        var policy = RotationPolicy.Default() with
        {
            Sites = [new SiteDefinition("primary", false), new SiteDefinition("vault-east", true, 3)],
            Pools =
            [
                new PoolDefinition("nightly", "N", new Schedule(every), BackupKind.Incremental, 7, "primary", 4, 40L << 20, 3),
                new PoolDefinition("friday", "F", new Schedule([DayOfWeek.Friday]), BackupKind.Full, 21, "vault-east", 3, 40L << 20, 2),
            ],
            MaxDaysWithoutFull = 6,
        };

        Snapshot.Match(SixtyDays(policy));
    }
}
