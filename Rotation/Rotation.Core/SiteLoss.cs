namespace Rotation.Core;

/// <summary>One set after a site is lost: restorable from surviving media (which copy), from the vault's own store, or not at all.</summary>
public sealed record SetSurvival(string SetId, string Source, DateTimeOffset SealedAt, bool FromVault, IReadOnlyList<MediumRef>? FromMedia)
{
    public bool Restorable => FromVault || FromMedia is not null;
}

/// <summary>One source after a site is lost: its newest restorable set, and how much work would be lost (hours before the end of the day).</summary>
public sealed record SourceRecovery(string Source, string? NewestRestorableSet, double? RecoveryPointHours, string? NewestFromMedia, double? MediaOnlyRecoveryPointHours);

public sealed record SiteLossReport(string Site, DateOnly Date, bool VaultStoreSurvives, IReadOnlyList<SetSurvival> Sets, IReadOnlyDictionary<string, SourceRecovery> Sources)
{
    /// <summary>What is lost with the site besides its own media: sites kept on its disk, and media in transit (physical drills).</summary>
    public IReadOnlyList<string> AlsoLost { get; init; } = [];
}

/// <summary>
/// "If this site burned down tonight, what could we restore?" Media at the lost site are gone; media in transit and
/// at other sites survive; the vault's own segment store survives unless the lost site is the drive's (primary) site.
/// A set is restorable from media when every medium of one of its copies survives and still holds that write.
/// </summary>
public static class SiteLoss
{
    /// <param name="physical">
    /// A drill of a real vault: what truly survives on disk. Losing the drive's site then also loses every site kept
    /// under the vault directory (no root of its own) and every medium in transit (sites/in-transit is there too). The
    /// planner's simulator leaves it off: it models the policy, as if every site were where the policy says. A site kept
    /// by a custodian is never on the primary's disk, and what is shipped to it is in its keeping from the moment it leaves.
    /// </param>
    public static SiteLossReport Evaluate(RotationState state, IReadOnlyList<SetInfo> sets, RotationPolicy policy, string lostSite, DateOnly date, bool newestOnly = false, bool physical = false)
    {
        var vaultSurvives = lostSite != policy.DriveSite;
        var lost = LostWith(policy, lostSite, physical);
        var end = new DateTimeOffset(date.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var survivals = new List<SetSurvival>();
        var newest = new Dictionary<string, (string? Any, double? AnyHours, string? Media, double? MediaHours)>(StringComparer.Ordinal);
        var sources = sets.Select(s => s.Source).Distinct().Count();
        var oldest = date.AddDays(-policy.WindowDays - 1);
        for (var i = sets.Count - 1; i >= 0; i--)
        {
            var set = sets[i];
            if (set.SealedOn > date)
                continue;
            if (newestOnly && (set.SealedOn < oldest || (newest.Count == sources && newest.Values.All(v => v.Media is not null))))
                break;
            var copy = SurvivingCopy(state, set.SetId, lost);
            var survival = new SetSurvival(set.SetId, set.Source, set.SealedAt, vaultSurvives, copy);
            if (!newestOnly)
                survivals.Add(survival);
            var hours = (end - set.SealedAt).TotalHours;
            var current = newest.GetValueOrDefault(set.Source);
            if (current.Any is null && survival.Restorable)
                current = current with { Any = set.SetId, AnyHours = hours };
            if (current.Media is null && copy is not null)
                current = current with { Media = set.SetId, MediaHours = hours };
            newest[set.Source] = current;
        }

        survivals.Reverse();
        return new SiteLossReport(lostSite, date, vaultSurvives, survivals,
            newest.ToDictionary(p => p.Key, p => new SourceRecovery(p.Key, p.Value.Any, p.Value.AnyHours, p.Value.Media, p.Value.MediaHours), StringComparer.Ordinal))
        {
            AlsoLost = [.. lost.Sites.Where(s => s != lostSite), .. lost.Transit ? ["in transit"] : Array.Empty<string>()],
        };
    }

    /// <summary>The sites (and whether media in transit) lost when <paramref name="lostSite"/> is.</summary>
    public static (IReadOnlySet<string> Sites, bool Transit) LostWith(RotationPolicy policy, string lostSite, bool physical)
    {
        var sites = new HashSet<string>(StringComparer.Ordinal) { lostSite };
        if (!physical || lostSite != policy.DriveSite)
            return (sites, false);
        foreach (var site in policy.Sites.Where(s => s.Root is null && !s.HasCustodian))
            sites.Add(site.Name);
        return (sites, true);
    }

    /// <summary>The media of one copy of the set that survive the loss of <paramref name="lostSite"/>, preferring the copy needing the fewest media.</summary>
    public static IReadOnlyList<MediumRef>? SurvivingCopy(RotationState state, string setId, (IReadOnlySet<string> Sites, bool Transit) lost)
    {
        if (!state.Copies.TryGetValue(setId, out var copies))
            return null;
        IReadOnlyList<MediumRef>? best = null;
        foreach (var (copy, _) in copies)
        {
            if ((best is null || copy.Requires.Count < best.Count) && copy.Requires.All(r => state.Survives(r, lost.Sites, lost.Transit)))
                best = copy.Requires;
        }

        return best;
    }
}
