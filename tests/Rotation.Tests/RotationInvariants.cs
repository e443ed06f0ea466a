using FsCheck.Xunit;
using Rotation.Core;

namespace Rotation.Tests;

/// <summary>
/// A simulated year under random data shapes (sources, churn, segment sizes, media capacity): every night the
/// invariants are checked independently of the planner's own warnings where possible.
/// </summary>
public sealed class RotationInvariants
{
    private static readonly DateOnly Start = new(2026, 3, 2);

    /// <summary>Runs a year and returns the first violated invariant, or null.</summary>
    private static string? Violation(RotationPolicy policy, SimulationOptions options)
    {
        string? violation = null;
        var heldWrite = new Dictionary<string, string>(StringComparer.Ordinal);      // label -> write it holds
        var neededUntil = new Dictionary<string, DateOnly>(StringComparer.Ordinal);  // "label/write" -> latest retention of any copy needing it
        Simulator.Run(policy, options, (date, state, sets, night) =>
        {
            if (violation is not null)
                return;
            foreach (var label in night.Plan.Recycle.Concat(night.Plan.Retire))
            {
                if (heldWrite.Remove(label, out var write) && neededUntil.TryGetValue($"{label}/{write}", out var until) && until >= date)
                    violation = $"{date}: {label} was recycled while a copy on it is kept until {until}";
            }

            foreach (var written in night.Written)
            {
                foreach (var medium in written.Media)
                {
                    heldWrite[medium.Label] = written.WriteId;
                    var pool = policy.Pool(written.Pool);
                    if (medium.Bytes > pool.CapacityBytes)
                        violation ??= $"{date}: {medium.Label} holds {medium.Bytes} bytes, over its capacity {pool.CapacityBytes}";
                }

                foreach (var copy in written.Sets)
                {
                    foreach (var needed in copy.Requires)
                    {
                        var key = $"{needed.Label}/{needed.WriteId}";
                        if (!neededUntil.TryGetValue(key, out var until) || until < written.RetainUntil)
                            neededUntil[key] = written.RetainUntil;
                    }
                }
            }

            if (state.Media.Values.FirstOrDefault(m => m.Wear > m.MaxPasses) is { } worn)
                violation ??= $"{date}: {worn.Label} was written {worn.Wear} times, beyond its {worn.MaxPasses} passes";
            if (date.DayNumber - Start.DayNumber < policy.ProtectAfterDays)
                return;

            var oldest = date.AddDays(-policy.WindowDays);
            var protectedUntil = date.AddDays(-policy.ProtectAfterDays);
            foreach (var set in Planner.InRange(sets, oldest, protectedUntil))
            {
                // Two sites, one off site: checked from the media's places directly, not from the planner's warning.
                var offsite = state.Copies.GetValueOrDefault(set.SetId)?.Any(c => c.Copy.Requires.All(r =>
                    state.Media.TryGetValue(r.Label, out var m) && m.WriteId == r.WriteId && m.HoldsData && m.Site is { } site && policy.Site(site).Offsite)) ?? false;
                if (!offsite)
                {
                    violation ??= $"{date}: set {set.SetId} (sealed {set.SealedOn}) has no complete copy off site";
                    return;
                }
            }

            foreach (var site in policy.Sites)
            {
                var loss = SiteLoss.Evaluate(state, sets, policy, site.Name, date);
                if (loss.Sets.FirstOrDefault(s => !s.Restorable && DateOnly.FromDateTime(s.SealedAt.UtcDateTime) is var d && d > oldest && d <= protectedUntil) is { } lost)
                {
                    violation ??= $"{date}: losing {site.Name} would lose set {lost.SetId} sealed {lost.SealedAt:u}";
                    return;
                }
            }
        });
        return violation;
    }

    [Property(MaxTest = 6)]
    public bool over_a_year_sets_are_off_site_media_stay_within_capacity_and_passes_and_no_needed_medium_is_recycled(byte sources, byte churn, byte segments, byte capacity, int seed)
    {
        var policy = RotationPolicy.Default(capacityBytes: (16L + capacity % 200) << 20) with
        {
            Pools = [.. RotationPolicy.Default().Pools.Select(p => p with { CapacityBytes = (16L + capacity % 200) << 20, MaxPasses = 3 + capacity % 20, Media = 4 })],
        };
        var options = new SimulationOptions(Start, 365, Sources: 1 + sources % 3, SegmentsPerSet: 4 + segments % 40, DailyChange: churn % 30 / 100.0, SegmentBytes: 1L << 20, Seed: seed);
        var violation = Violation(policy, options);
        Assert.True(violation is null, violation);
        return true;
    }

    [Fact]
    public void the_default_policy_holds_the_invariants_for_a_year_and_wears_out_and_retires_media()
    {
        var policy = RotationPolicy.Default(capacityBytes: 64L << 20) with
        {
            Pools = [.. RotationPolicy.Default(capacityBytes: 64L << 20).Pools.Select(p => p with { MaxPasses = 4 })],
        };
        var retired = 0;
        var violation = Violation(policy, new SimulationOptions(Start, 365, Sources: 2, SegmentsPerSet: 20, SegmentBytes: 1L << 20));
        Simulator.Run(policy, new SimulationOptions(Start, 365, Sources: 2, SegmentsPerSet: 20, SegmentBytes: 1L << 20), (_, _, _, night) => retired += night.Plan.Retire.Count);

        Assert.Null(violation);
        Assert.True(retired > 0, "no medium reached its passes in a year: the retirement path was not exercised");
    }

    /// <summary>The checker itself can fail: a policy that keeps nothing off site is caught.</summary>
    [Fact]
    public void a_policy_that_never_ships_off_site_is_caught()
    {
        var policy = RotationPolicy.Default() with
        {
            Pools = [.. RotationPolicy.Default().Pools.Select(p => p with { Site = "primary" })],
        };

        var violation = Violation(policy, new SimulationOptions(Start, 40, Sources: 1, SegmentsPerSet: 5));

        Assert.NotNull(violation);
        Assert.Contains("no complete copy off site", violation);
    }
}

/// <summary>A run cut short between loading a medium and recording its write leaves it "writing"; the next plan erases and reuses it.</summary>
public sealed class InterruptedWriteTests
{
    [Fact]
    public void a_medium_left_writing_is_recycled_and_reused_by_the_next_night()
    {
        var policy = RotationPolicy.Default();
        var state = new RotationState();
        var day = new DateOnly(2026, 3, 2);
        state.Apply(new RotationConfigured(policy, day));
        state.Apply(new MediumLabeled("D00001", "daily", policy.Pools[0].CapacityBytes, 100, "primary", day));
        state.Apply(new MediumLoaded("D00001", "daily-x", 0, day));
        var sets = new[] { new SetInfo("s1", "web", new DateTimeOffset(2026, 3, 2, 21, 0, 0, TimeSpan.Zero), new SegmentRef("m1", 100), [new SegmentRef("a", 1000)]) };

        var plan = Planner.Plan(state, sets, day.AddDays(1));

        Assert.Equal(MediumState.Writing, state.Media["D00001"].State);
        Assert.Contains("D00001", plan.Recycle);
        Assert.Contains(plan.Warnings, w => w.Code == "interrupted-write");
        Assert.Equal(["D00001"], plan.Writes.Single().Media);
    }
}

public sealed class PolicyValidationTests
{
    [Fact]
    public void a_site_root_must_be_absolute_and_two_sites_cannot_share_one()
    {
        var policy = RotationPolicy.Default() with
        {
            Sites = [new SiteDefinition("primary", false, 0, "relative/dir"), new SiteDefinition("offsite-a", true, 1, "/mnt/vault"), new SiteDefinition("offsite-b", true, 2, "/mnt/vault")],
        };

        var problems = policy.Problems();

        Assert.Contains(problems, p => p.Contains("root must be an absolute path", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("share the root /mnt/vault", StringComparison.Ordinal));
        Assert.Empty(RotationPolicy.Default().Problems());
    }
}
