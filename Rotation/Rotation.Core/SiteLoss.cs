namespace Rotation.Core;

/// <summary>One set after a site is lost: restorable from surviving media (which copy), from the vault's own store, or not at all.</summary>
public sealed record SetSurvival(string SetId, string Source, DateTimeOffset SealedAt, bool FromVault, IReadOnlyList<MediumRef>? FromMedia)
{
    public bool Restorable => FromVault || FromMedia is not null;
}

/// <summary>One source after a site is lost: its newest restorable set, and how much work would be lost (hours before the end of the day).</summary>
public sealed record SourceRecovery(string Source, string? NewestRestorableSet, double? RecoveryPointHours, string? NewestFromMedia, double? MediaOnlyRecoveryPointHours);

public sealed record SiteLossReport(string Site, DateOnly Date, bool VaultStoreSurvives, IReadOnlyList<SetSurvival> Sets, IReadOnlyDictionary<string, SourceRecovery> Sources);

/// <summary>
/// "If this site burned down tonight, what could we restore?" Media at the lost site are gone; media in transit and
/// at other sites survive; the vault's own segment store survives unless the lost site is the drive's (primary) site.
/// A set is restorable from media when every medium of one of its copies survives and still holds that write.
/// </summary>
public static class SiteLoss
{
    public static SiteLossReport Evaluate(RotationState state, IReadOnlyList<SetInfo> sets, RotationPolicy policy, string lostSite, DateOnly date, bool newestOnly = false)
    {
        var vaultSurvives = lostSite != policy.DriveSite;
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
            var copy = SurvivingCopy(state, set.SetId, lostSite);
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
            newest.ToDictionary(p => p.Key, p => new SourceRecovery(p.Key, p.Value.Any, p.Value.AnyHours, p.Value.Media, p.Value.MediaHours), StringComparer.Ordinal));
    }

    /// <summary>The media of one copy of the set that survive the loss of <paramref name="lostSite"/>, preferring the copy needing the fewest media.</summary>
    public static IReadOnlyList<MediumRef>? SurvivingCopy(RotationState state, string setId, string? lostSite)
    {
        if (!state.Copies.TryGetValue(setId, out var copies))
            return null;
        IReadOnlyList<MediumRef>? best = null;
        foreach (var (copy, _) in copies)
        {
            if ((best is null || copy.Requires.Count < best.Count) && copy.Requires.All(r => state.Survives(r, lostSite)))
                best = copy.Requires;
        }

        return best;
    }
}
