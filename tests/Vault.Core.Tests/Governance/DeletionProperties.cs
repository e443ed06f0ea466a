using FsCheck.Xunit;
using Vault.Core.Governance;

namespace Vault.Core.Tests.Governance;

/// <summary>
/// For random sequences of requests, approvals (by approvers, an outsider, with wrong signatures), vetoes,
/// clock advances, holds, retention changes and execution attempts: no execution is ever decided unless, checked
/// independently from the history, M distinct registered approvers signed these targets before expiry, the delay
/// passed after the M-th signature, nobody vetoed, and no target was held or retained.
/// </summary>
public sealed class DeletionProperties
{
    private static readonly string[] People = ["alice", "bob", "carol", "dave", "mallory"];
    private static readonly string[] Targets = ["set-a", "set-b"];
    private static readonly Keys KeyRing = new("alice", "bob", "carol", "dave");
    private static readonly Keys Outsider = new("mallory");
    private static readonly GovernanceRules Rules = KeyRing.Rules(quorum: 3, coolingOff: TimeSpan.FromHours(72), expiry: TimeSpan.FromDays(14));

    [Property(MaxTest = 1000)]
    public bool no_execution_without_quorum_delay_no_veto_no_hold_and_retention_passed(uint[] operations)
    {
        var now = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var history = new List<IRequestEvent>();
        var holds = new Dictionary<string, List<string>> { ["set-a"] = [], ["set-b"] = [] };
        var retainUntil = new Dictionary<string, DateTimeOffset> { ["set-a"] = now.AddDays(3), ["set-b"] = now };

        var first = operations.Length > 0 ? operations[0] : 0u;
        history.AddRange(DeletionDecider.Request(DeletionRequestState.Empty,
            new RequestDeletion("r", Targets, "cleanup", People[first % 4], Sign(People[first % 4], SignedAction.Request, first / 4)), new GovernanceContext(Keys.VaultId, Rules, now)).Events);
        foreach (var op in operations.Skip(1))
        {
            var who = People[(int)(op / 100 % (uint)People.Length)];
            var state = DeletionRequestState.Fold(history);
            var context = new GovernanceContext(Keys.VaultId, Rules, now);
            // Weighted so that quorum, delays and executions happen often: approvals 35%, clock 30%, execution 20%.
            Decision? decision = (op % 100) switch
            {
                < 35 => DeletionDecider.Approve(state, new ApproveDeletion("r", who, Sign(who, SignedAction.Approve, op / 100)), context),
                < 65 => Advance(ref now, TimeSpan.FromMinutes(op / 100 % 7200)),
                < 85 => DeletionDecider.Execute(state, Protections(holds, retainUntil), [], "ops", context),
                < 88 => DeletionDecider.Veto(state, new VetoDeletion("r", who, "no", Sign(who, SignedAction.Veto, op / 100)), context),
                < 90 => DeletionDecider.Request(state, new RequestDeletion("r", Targets, "again", who, Sign(who, SignedAction.Request, op / 100)), context),
                < 95 => Toggle(holds[Targets[op / 100 % 2]], "case-1"),
                _ => Extend(retainUntil, Targets[op / 100 % 2], now.AddHours(op / 100 % 300)),
            };
            if (decision is null)
                continue;
            if (decision.Events.OfType<RequestExecuted>().Any() && !ExecutionJustified(history, holds, retainUntil, now))
                return false;
            history.AddRange(decision.Events);
        }

        LastRunExecuted = history.OfType<RequestExecuted>().Any();
        return true;
    }

    /// <summary>An independent reading of the history: does it justify executing at <paramref name="now"/>?</summary>
    private static bool ExecutionJustified(List<IRequestEvent> history, Dictionary<string, List<string>> holds, Dictionary<string, DateTimeOffset> retainUntil, DateTimeOffset now)
    {
        var requested = history.OfType<RequestOpened>().FirstOrDefault();
        if (requested is null || history.OfType<RequestVetoed>().Any() || history.OfType<RequestExecuted>().Any())
            return false;
        // Expiry is final once recorded, even if quorum came later (the decider must not have let it).
        if (history.OfType<RequestExpired>().Any())
            return false;
        var digest = SigningPayload.TargetsDigest(requested.Targets);
        var valid = new List<(string Who, DateTimeOffset At)>();
        var signatures = new[] { (requested.RequestedBy, requested.Signature, requested.At, SignedAction.Request) }
            .Concat(history.OfType<RequestApproved>().Select(a => (a.ApprovedBy, a.Signature, a.At, SignedAction.Approve)));
        foreach (var (who, signature, at, action) in signatures)
        {
            var approver = Rules.Find(who);
            if (approver is not null && valid.All(v => v.Who != who)
                && Ed25519.Verify(approver.PublicKey, SigningPayload.For(Keys.VaultId, action, "r", digest), Convert.FromHexString(signature)))
                valid.Add((who, at));
        }

        if (valid.Count < Rules.Quorum)
            return false;
        var quorumAt = valid[Rules.Quorum - 1].At;
        return quorumAt < requested.At + Rules.RequestExpiry
            && now >= quorumAt + Rules.CoolingOff
            && requested.Targets.All(t => holds[t].Count == 0 && retainUntil[t] <= now);
    }

    /// <summary>Mostly good signatures; one in seven is made for other targets, so it must not count.</summary>
    private static byte[] Sign(string who, SignedAction action, uint seed)
    {
        var keys = who == "mallory" ? Outsider : KeyRing;
        return seed % 7 == 3 ? keys.Sign(who, action, "r", ["set-a"]) : keys.Sign(who, action, "r", Targets);
    }

    /// <summary>The generator reaches the interesting states: some runs do execute (otherwise the property proves nothing).</summary>
    [Fact]
    public void the_generated_histories_do_reach_execution()
    {
        var random = new Random(7);
        var executed = 0;
        for (var run = 0; run < 300; run++)
        {
            var ops = Enumerable.Range(0, 60).Select(_ => (uint)random.Next()).ToArray();
            Assert.True(no_execution_without_quorum_delay_no_veto_no_hold_and_retention_passed(ops));
            executed += LastRunExecuted ? 1 : 0;
        }

        Assert.True(executed >= 30, $"only {executed} of 300 generated histories executed");
    }

    [ThreadStatic]
    private static bool LastRunExecuted;

    private static Decision? Advance(ref DateTimeOffset now, TimeSpan by)
    {
        now += by;
        return null;
    }

    private static Decision? Toggle(List<string> holds, string hold)
    {
        if (!holds.Remove(hold))
            holds.Add(hold);
        return null;
    }

    private static Decision? Extend(Dictionary<string, DateTimeOffset> retainUntil, string set, DateTimeOffset until)
    {
        if (until > retainUntil[set])
            retainUntil[set] = until;
        return null;
    }

    private static Dictionary<string, SetProtection> Protections(Dictionary<string, List<string>> holds, Dictionary<string, DateTimeOffset> retainUntil) =>
        Targets.ToDictionary(t => t, t => new SetProtection(retainUntil[t], [.. holds[t]]));
}
