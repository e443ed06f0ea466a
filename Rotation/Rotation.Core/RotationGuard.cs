using Vault.Core.Governance;

namespace Rotation.Core;

/// <summary>
/// What a rotation record would take away, judged against the state just before it. <see cref="Target"/> is the
/// rotation request target whose approval allows it; null when no request can (the rotation itself never records it).
/// </summary>
public sealed record GuardedChange(string? Target, string Why);

/// <summary>
/// The one definition of which rotation records loosen protection. The commands refuse them without an approved
/// request, and replay of the log (<c>RotationJournal</c>) applies them only when the request they name is re-proved
/// from its signatures: a record written straight into the log by someone holding the primary changes nothing.
/// Routine moves (what the planner does on its own: expiring what is past its need date, recycling and retiring what
/// has expired, shipping out, recalling what has expired, receiving what was shipped) pass.
/// </summary>
public static class RotationGuard
{
    /// <param name="recordedOn">The day the log recorded the record (an expiry may not claim a later day than that).</param>
    public static GuardedChange? Check(RotationState state, IRotationEvent e, DateOnly recordedOn)
    {
        switch (e)
        {
            case RotationConfigured c when state.Policy is { } current && current.Loosening(c.Policy) is { Count: > 0 } why:
                return new GuardedChange(RequestTargets.RotationPolicy(c.Policy.ToJson()), $"the policy recorded on {c.Date:yyyy-MM-dd} loosens protection ({string.Join("; ", why)})");
            case MediumShipped s when state.Media.TryGetValue(s.Label, out var m):
                if (m.Site != s.From)
                    return new GuardedChange(null, $"{s.Label} is shipped from {s.From}, but it was {Where(m)}");
                return BringsHomeEarly(state.Policy, m, s.To)
                    ? new GuardedChange(RequestTargets.RotationShip(s.Label, s.To), $"{s.Label} is off site at {m.Site} and needed until {m.NeededUntil:yyyy-MM-dd}; bringing it to {s.To} early")
                    : null;
            case MediumReceived r when state.Media.TryGetValue(r.Label, out var m) && (m.State != MediumState.InTransit || m.Destination != r.Site):
                return new GuardedChange(null, $"{r.Label} is received at {r.Site}, but it was {Where(m)}");
            case MediumExpired x when state.Media.TryGetValue(x.Label, out var m) && m.HoldsData && (m.NeededUntil is not { } until || until >= x.Date || until >= recordedOn):
                return new GuardedChange(null, $"{x.Label} is expired on {x.Date:yyyy-MM-dd} (recorded {recordedOn:yyyy-MM-dd}), but it is needed until {m.NeededUntil:yyyy-MM-dd}");
            case MediumRecycled r when state.Media.TryGetValue(r.Label, out var m) && Needed(m):
                return new GuardedChange(null, $"{r.Label} is erased for reuse, but it holds data needed until {m.NeededUntil:yyyy-MM-dd}");
            case MediumRetired r when state.Media.TryGetValue(r.Label, out var m) && Needed(m):
                return new GuardedChange(null, $"{r.Label} is retired, but it holds data needed until {m.NeededUntil:yyyy-MM-dd}");
            case MediumLost l when state.Media.TryGetValue(l.Label, out var m) && Needed(m):
                return new GuardedChange(RequestTargets.RotationLose(l.Label), $"{l.Label} is recorded lost while it holds data needed until {m.NeededUntil:yyyy-MM-dd} (its copies then stop counting)");
            default:
                return null;
        }
    }

    /// <summary>The request a guarded record names, if its type can name one.</summary>
    public static string? RequestIdOf(IRotationEvent e) => e switch
    {
        RotationConfigured c => c.RequestId,
        MediumShipped s => s.RequestId,
        MediumLost l => l.RequestId,
        _ => null,
    };

    /// <summary>Is the medium off site, holding data still needed, and would this move bring it to a site that is not?</summary>
    public static bool BringsHomeEarly(RotationPolicy? policy, MediumInfo m, string to) =>
        policy is not null && m.Site is { } at && policy.Sites.FirstOrDefault(s => s.Name == at)?.Offsite == true && Needed(m)
        && policy.Sites.FirstOrDefault(s => s.Name == to)?.Offsite != true;

    private static bool Needed(MediumInfo m) => m.HoldsData && !m.IsExpired;

    private static string Where(MediumInfo m) => m.Site is { } site ? $"{m.State.ToString().ToLowerInvariant()} at {site}"
        : m.State == MediumState.InTransit ? $"in transit to {m.Destination}" : m.State.ToString().ToLowerInvariant();
}
