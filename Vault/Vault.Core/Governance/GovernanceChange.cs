using System.Globalization;

namespace Vault.Core.Governance;

/// <summary>The rules in force changed: a governance request reached quorum, waited its delay and was applied. On stream "vault".</summary>
public sealed record GovernanceChanged(string RequestId, GovernanceDocument Governance, IReadOnlyList<string> Loosening, DateTimeOffset At)
{
    public const string EventType = "GovernanceChanged.v1";
}

/// <summary>How a proposed set of rules compares with the rules in force.</summary>
public static class GovernanceChange
{
    /// <summary>
    /// Why the proposal loosens protection, one sentence each; empty when it only tightens. Loosening: a smaller
    /// quorum, a shorter cooling-off delay, a shorter minimum retention, a longer request expiry (more time to gather
    /// signatures), removing an approver or replacing their key, and adding an approver (one more credential that can
    /// sign). A loosening change waits twice the cooling-off delay after quorum.
    /// </summary>
    public static IReadOnlyList<string> Loosening(GovernanceRules current, GovernanceRules proposed)
    {
        var reasons = new List<string>();
        if (proposed.Quorum < current.Quorum)
            reasons.Add($"quorum lowered from {current.Quorum} to {proposed.Quorum}");
        if (proposed.CoolingOff < current.CoolingOff)
            reasons.Add($"cooling-off shortened from {Show(current.CoolingOff)} to {Show(proposed.CoolingOff)}");
        if (proposed.MinimumRetention < current.MinimumRetention)
            reasons.Add($"minimum retention shortened from {Show(current.MinimumRetention)} to {Show(proposed.MinimumRetention)}");
        if (proposed.RequestExpiry > current.RequestExpiry)
            reasons.Add($"request expiry lengthened from {Show(current.RequestExpiry)} to {Show(proposed.RequestExpiry)}");
        foreach (var approver in current.Approvers)
        {
            var kept = proposed.Find(approver.Id);
            if (kept is null)
                reasons.Add($"approver {approver.Id} removed");
            else if (kept.PublicKeyHex != approver.PublicKeyHex)
                reasons.Add($"approver {approver.Id}'s key replaced");
        }

        reasons.AddRange(proposed.Approvers.Where(a => current.Find(a.Id) is null).Select(a => $"approver {a.Id} added"));
        return reasons;
    }

    /// <summary>What changes, for people: "quorum 3 -> 2", "add approver erin", ...</summary>
    public static IReadOnlyList<string> Describe(GovernanceRules current, GovernanceRules proposed)
    {
        var changes = new List<string>();
        if (proposed.Quorum != current.Quorum)
            changes.Add($"quorum {current.Quorum} -> {proposed.Quorum}");
        if (proposed.CoolingOff != current.CoolingOff)
            changes.Add($"cooling-off {Show(current.CoolingOff)} -> {Show(proposed.CoolingOff)}");
        if (proposed.RequestExpiry != current.RequestExpiry)
            changes.Add($"request expiry {Show(current.RequestExpiry)} -> {Show(proposed.RequestExpiry)}");
        if (proposed.MinimumRetention != current.MinimumRetention)
            changes.Add($"minimum retention {Show(current.MinimumRetention)} -> {Show(proposed.MinimumRetention)}");
        changes.AddRange(current.Approvers.Where(a => proposed.Find(a.Id) is null).Select(a => $"remove approver {a.Id}"));
        changes.AddRange(proposed.Approvers.Where(a => current.Find(a.Id) is null).Select(a => $"add approver {a.Id}"));
        changes.AddRange(proposed.Approvers.Where(a => current.Find(a.Id) is { } c && c.PublicKeyHex != a.PublicKeyHex).Select(a => $"replace {a.Id}'s key"));
        return changes;
    }

    public static string Show(TimeSpan span) => span.TotalHours < 48 && span.Ticks % TimeSpan.TicksPerHour == 0
        ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalHours:0}h")
        : span.Ticks % TimeSpan.TicksPerDay == 0 ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalDays:0}d") : span.ToString("c", CultureInfo.InvariantCulture);
}
