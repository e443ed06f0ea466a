using FsCheck.Xunit;
using Vault.Core.Governance;

namespace Vault.Core.Tests.Governance;

/// <summary>
/// Random histories mixing a deletion request with governance changes (quorum up or down, delay up or down, an
/// approver added or removed), approvals by members, ex-members, a newcomer and an outsider, vetoes and clock
/// advances. Checked independently against the rules in force at each moment: nothing executes (neither the deletion
/// nor a governance change) without enough valid distinct signatures under the rules of the time, before expiry,
/// the delay after quorum (twice it for a loosening change), no veto, and, for a change, unchanged rules since it was
/// proposed.
/// </summary>
public sealed class GovernanceProperties
{
    private static readonly string[] People = ["alice", "bob", "carol", "dave", "erin", "mallory"];
    private static readonly string[] Targets = ["set-a"];
    private static readonly Keys KeyRing = new("alice", "bob", "carol", "dave", "erin");
    private static readonly Keys Outsider = new("mallory");
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private sealed class World
    {
        public DateTimeOffset Now = Start;
        public List<(DateTimeOffset From, GovernanceRules Rules)> Timeline = [(Start, Initial())];
        public Dictionary<string, List<IRequestEvent>> Requests = new() { ["r"] = [] };
        public List<string> Open = [];
        public int Proposals;
        public int GovernanceExecuted;

        public GovernanceRules Rules => Timeline[^1].Rules;
        public long Version => Timeline.Count - 1;
        public GovernanceContext Context => new(Keys.VaultId, Rules, Now, Version);

        public GovernanceRules RulesAt(DateTimeOffset at) => Timeline.Last(t => t.From <= at).Rules;

        private static GovernanceRules Initial() =>
            new([.. new[] { "alice", "bob", "carol", "dave" }.Select(a => new Approver(a, Ed25519.PublicKeyOf(KeyRing.PrivateKeyOf(a))))], 3, TimeSpan.FromHours(72), TimeSpan.FromDays(14));
    }

    [Property(MaxTest = 500)]
    public bool nothing_executes_without_the_quorum_and_delay_of_the_rules_in_force(uint[] operations)
    {
        var world = new World();
        Apply(world, "r", DeletionDecider.Request(DeletionRequestState.Empty,
            new RequestDeletion("r", Targets, "cleanup", "alice", KeyRing.Sign("alice", SignedAction.Request, "r", Targets)), world.Context));
        foreach (var op in operations)
        {
            var who = People[(int)(op / 100 % (uint)People.Length)];
            var id = (op / 1000 % 3) switch { 1 when world.Open.Count > 0 => world.Open[0], 2 when world.Open.Count > 0 => world.Open[^1], _ => "r" };
            if (op % 100 >= 83)
            {
                if (Propose(world, who, op) is { } proposed)
                    Apply(world, world.Open[^1], proposed);
                continue;
            }

            var state = DeletionRequestState.Fold(world.Requests[id]);
            Decision? decision = (op % 100) switch
            {
                < 35 => DeletionDecider.Approve(state, new ApproveDeletion(id, who, Sign(who, SignedAction.Approve, id, state.Targets, op)), world.Context),
                < 60 => Advance(world, TimeSpan.FromMinutes(op / 100 % 7200)),
                < 80 => DeletionDecider.Execute(state, new Dictionary<string, SetProtection> { ["set-a"] = SetProtection.None }, [], "ops", world.Context),
                _ => DeletionDecider.Veto(state, new VetoDeletion(id, who, "no", Sign(who, SignedAction.Veto, id, state.Targets, op)), world.Context),
            };
            if (decision is null)
                continue;
            if (decision.Events.OfType<RequestExecuted>().Any() && !Justified(world, id))
            {
                LastFailure = $"{id} executed at {world.Now:u}, rules v{world.Version}: " + string.Join("; ", world.Requests[id].Select(e => $"{e.GetType().Name} {e.At:u} {(e as RequestApproved)?.ApprovedBy}{(e as RequestOpened)?.RequestedBy}{(e as RequestQuorumReached)?.ExecutableAfter:u}"))
                    + " | timeline: " + string.Join("; ", world.Timeline.Select(t => $"{t.From:u} q{t.Rules.Quorum} d{t.Rules.CoolingOff.TotalHours} [{string.Join(",", t.Rules.Approvers.Select(a => a.Id))}]"));
                return false;
            }
            Apply(world, id, decision);
        }

        LastRun = (world.Requests["r"].OfType<RequestExecuted>().Any(), world.GovernanceExecuted);
        return true;
    }

    private static void Apply(World world, string id, Decision decision)
    {
        world.Requests[id].AddRange(decision.Events);
        if (id != "r" && decision.Events.OfType<RequestExecuted>().Any())
        {
            world.Timeline.Add((world.Now, DeletionRequestState.Fold(world.Requests[id]).Governance!.ToRules()));
            world.GovernanceExecuted++;
        }
    }

    /// <summary>An independent reading: were there enough valid signatures under the rules of each moment, and did the delay pass?</summary>
    private static bool Justified(World world, string id)
    {
        var history = world.Requests[id];
        var requested = history.OfType<RequestOpened>().FirstOrDefault();
        if (requested is null || history.Any(e => e is RequestVetoed or RequestExpired or RequestExecuted))
            return false;
        if (id != "r" && requested.RulesVersion != world.Version)
            return false;
        var signed = new HashSet<string>();
        DateTimeOffset? quorumAt = null;
        var signatures = new[] { (requested.RequestedBy, requested.Signature, requested.At, SignedAction.Request) }
            .Concat(history.OfType<RequestApproved>().Select(a => (a.ApprovedBy, a.Signature, a.At, SignedAction.Approve)));
        foreach (var (who, signature, at, action) in signatures)
        {
            var rules = world.RulesAt(at);
            if (rules.Find(who) is { } approver && !signed.Contains(who)
                && Ed25519.Verify(approver.PublicKey, SigningPayload.For(Keys.VaultId, action, id, requested.TargetsDigest), Convert.FromHexString(signature)))
            {
                signed.Add(who);
                if (signed.Count >= rules.Quorum && at < requested.At + rules.RequestExpiry)
                {
                    quorumAt = at;
                    break;
                }
            }
        }

        if (quorumAt is not { } q)
            return false;
        var then = world.RulesAt(q);
        var delay = id != "r" && Loosens(world.RulesAt(requested.At), requested.Governance!.ToRules()) ? then.CoolingOff * 2 : then.CoolingOff;
        return world.Now >= q + delay;
    }

    /// <summary>The test's own notion of loosening for the changes it proposes.</summary>
    private static bool Loosens(GovernanceRules before, GovernanceRules after) =>
        after.Quorum < before.Quorum || after.CoolingOff < before.CoolingOff || after.Approvers.Count != before.Approvers.Count;

    private static Decision? Propose(World world, string who, uint op)
    {
        world.Open.RemoveAll(g => DeletionRequestState.Fold(world.Requests[g]).Status is not (DeletionStatus.Pending or DeletionStatus.QuorumReached));
        if (world.Open.Count >= 2)
            return null;
        var current = GovernanceDocument.From(world.Rules);
        var erin = new ApproverDocument("erin", Convert.ToHexStringLower(Ed25519.PublicKeyOf(KeyRing.PrivateKeyOf("erin"))));
        var proposal = (op / 100 % 6) switch
        {
            0 => current with { Quorum = current.Quorum - 1 },
            1 => current with { Quorum = current.Quorum + 1 },
            2 => current with { CoolingOffSeconds = current.CoolingOffSeconds / 2 },
            3 => current with { CoolingOffSeconds = current.CoolingOffSeconds * 2 },
            4 => current with { Approvers = [.. current.Approvers.Where(a => a.Id != "erin"), erin] },
            _ => current with { Approvers = [.. current.Approvers.Where(a => a.Id != "dave")] },
        };
        try
        {
            proposal.ToRules();
        }
        catch (ArgumentException)
        {
            return null;
        }

        var id = $"g{world.Proposals++}";
        world.Requests[id] = [];
        world.Open.Add(id);
        string[] targets = [RequestTargets.Governance(proposal, world.Version)];
        return DeletionDecider.Request(DeletionRequestState.Empty,
            new RequestDeletion(id, targets, "change", who, Sign(who, SignedAction.Request, id, targets, op), RequestKind.ChangeGovernance, proposal, world.Version), world.Context);
    }

    /// <summary>Mostly good signatures; one in seven covers other targets, so it must not count. Mallory signs with her own key.</summary>
    private static byte[] Sign(string who, SignedAction action, string id, IReadOnlyList<string> targets, uint seed)
    {
        var keys = who == "mallory" ? Outsider : KeyRing;
        return seed % 7 == 3 ? keys.Sign(who, action, id, ["set-z"]) : keys.Sign(who, action, id, targets.Count == 0 ? Targets : targets);
    }

    private static Decision? Advance(World world, TimeSpan by)
    {
        world.Now += by;
        return null;
    }

    [ThreadStatic]
    private static string? LastFailure;

    [ThreadStatic]
    private static (bool Deleted, int GovernanceChanges) LastRun;

    /// <summary>The generator does reach governance changes and deletions under changed rules (otherwise the property proves little).</summary>
    [Fact]
    public void the_generated_histories_change_the_rules_and_delete()
    {
        var random = new Random(11);
        var (deleted, changed) = (0, 0);
        for (var run = 0; run < 300; run++)
        {
            var ops = Enumerable.Range(0, 80).Select(_ => (uint)random.Next()).ToArray();
            Assert.True(nothing_executes_without_the_quorum_and_delay_of_the_rules_in_force(ops), LastFailure);
            deleted += LastRun.Deleted ? 1 : 0;
            changed += LastRun.GovernanceChanges > 0 ? 1 : 0;
        }

        Assert.True(changed >= 30, $"only {changed} of 300 generated histories changed the rules");
        Assert.True(deleted >= 30, $"only {deleted} of 300 generated histories deleted");
    }
}
