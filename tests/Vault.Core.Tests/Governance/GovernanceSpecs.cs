using Microsoft.Extensions.Time.Testing;
using Vault.Core.Governance;
using Vault.Core.Sets;

namespace Vault.Core.Tests.Governance;

/// <summary>Given/When/Then specs for governance changes and legal holds: the same quorum as deletion, twice the delay when loosening.</summary>
public sealed class GovernanceSpecs
{
    private readonly Keys _keys = new("alice", "bob", "carol", "dave");
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero));
    private readonly List<IRequestEvent> _history = [];
    private readonly GovernanceRules _rules;
    private long _rulesVersion = 3;

    public GovernanceSpecs() => _rules = _keys.Rules(quorum: 3);

    private GovernanceContext Context => new(Keys.VaultId, _rules, _clock.GetUtcNow(), _rulesVersion);

    private DeletionRequestState State => DeletionRequestState.Fold(_history);

    private Decision When(Func<DeletionRequestState, GovernanceContext, Decision> command)
    {
        var decision = command(State, Context);
        _history.AddRange(decision.Events);
        return decision;
    }

    private GovernanceDocument Change(Func<GovernanceDocument, GovernanceDocument> edit) => edit(GovernanceDocument.From(_rules));

    private Decision Proposed(GovernanceDocument proposal, long? version = null, GovernanceDocument? signedProposal = null)
    {
        var v = version ?? _rulesVersion;
        string[] targets = [RequestTargets.Governance(proposal, v)];
        var signature = _keys.Sign("alice", SignedAction.Request, "gov-1", [RequestTargets.Governance(signedProposal ?? proposal, v)]);
        return When((s, c) => DeletionDecider.Request(s, new RequestDeletion("gov-1", targets, "change", "alice", signature, RequestKind.ChangeGovernance, proposal, v), c));
    }

    private void ApprovedBy(params string[] approvers)
    {
        foreach (var who in approvers)
            When((s, c) => DeletionDecider.Approve(s, new ApproveDeletion(s.RequestId, who, _keys.Sign(who, SignedAction.Approve, s.RequestId, s.Targets)), c));
    }

    private Decision Executed() => When((s, c) => DeletionDecider.Execute(s, new Dictionary<string, SetProtection>(), [], "ops", c));

    [Fact]
    public void raising_the_quorum_tightens_and_executes_after_one_delay()
    {
        Proposed(Change(d => d with { Quorum = 4 }));
        ApprovedBy("bob", "carol");
        _clock.Advance(TimeSpan.FromHours(72));

        var decision = Executed();

        Assert.Empty(State.Loosening);
        Assert.True(decision.Accepted, decision.Refusal?.Reason);
        Assert.IsType<RequestExecuted>(Assert.Single(decision.Events));
    }

    [Fact]
    public void lowering_the_quorum_loosens_and_waits_twice_the_delay()
    {
        Proposed(Change(d => d with { Quorum = 2 }));
        ApprovedBy("bob", "carol");
        _clock.Advance(TimeSpan.FromHours(144) - TimeSpan.FromSeconds(1));
        var early = Executed();
        _clock.Advance(TimeSpan.FromSeconds(1));
        var onTime = Executed();

        Assert.Equal(["quorum lowered from 3 to 2"], State.Loosening);
        Assert.Equal(RefusalCode.CoolingOff, early.Refusal?.Code);
        Assert.True(onTime.Accepted, onTime.Refusal?.Reason);
    }

    [Theory]
    [InlineData("cooling-off", true)]
    [InlineData("retention", true)]
    [InlineData("longer-expiry", true)]
    [InlineData("shorter-expiry", false)]
    [InlineData("remove", true)]
    [InlineData("add", true)]
    [InlineData("longer-cooling-off", false)]
    public void each_loosening_change_is_named_and_tightening_ones_are_not(string change, bool loosens)
    {
        var newcomer = new Keys("erin");
        var erinKey = Convert.ToHexStringLower(Ed25519.PublicKeyOf(newcomer.PrivateKeyOf("erin")));
        var proposal = Change(d => change switch
        {
            "cooling-off" => d with { CoolingOffSeconds = 3600 },
            "retention" => d with { MinimumRetentionSeconds = 60 },
            "longer-expiry" => d with { RequestExpirySeconds = d.RequestExpirySeconds * 2 },
            "shorter-expiry" => d with { RequestExpirySeconds = d.RequestExpirySeconds / 2 },
            "remove" => d with { Approvers = [.. d.Approvers.Where(a => a.Id != "dave")] },
            "add" => d with { Approvers = [.. d.Approvers, new ApproverDocument("erin", erinKey)] },
            _ => d with { CoolingOffSeconds = d.CoolingOffSeconds * 2 },
        });

        var decision = Proposed(proposal);

        Assert.True(decision.Accepted, decision.Refusal?.Reason);
        Assert.Equal(loosens, State.Loosening.Count > 0);
    }

    [Fact]
    public void a_proposal_against_older_rules_is_refused_when_made_and_when_the_rules_moved_before_execution()
    {
        var stale = Proposed(Change(d => d with { Quorum = 4 }), version: 2);
        _history.Clear();
        Proposed(Change(d => d with { Quorum = 4 }));
        ApprovedBy("bob", "carol");
        _clock.Advance(TimeSpan.FromHours(72));
        _rulesVersion++; // another change landed meanwhile

        var execution = Executed();

        Assert.Equal(RefusalCode.StaleProposal, stale.Refusal?.Code);
        Assert.Equal(RefusalCode.StaleProposal, execution.Refusal?.Code);
        Assert.DoesNotContain(_history, e => e is RequestExecuted);
    }

    [Fact]
    public void an_invalid_or_empty_proposal_and_a_signature_over_other_rules_are_refused()
    {
        var quorumOfOne = Proposed(Change(d => d with { Quorum = 1 }));
        _history.Clear();
        var nothing = Proposed(Change(d => d));
        _history.Clear();
        var swapped = Proposed(Change(d => d with { Quorum = 2 }), signedProposal: Change(d => d with { Quorum = 4 }));

        Assert.Equal(RefusalCode.InvalidRequest, quorumOfOne.Refusal?.Code);
        Assert.Contains("at least 2", quorumOfOne.Refusal!.Reason);
        Assert.Equal(RefusalCode.InvalidRequest, nothing.Refusal?.Code);
        Assert.Equal(RefusalCode.BadSignature, swapped.Refusal?.Code);
    }

    [Fact]
    public void one_approver_places_a_hold_over_the_set_and_hold_id_they_signed()
    {
        var set = BackupSetState.Empty.Apply(new SetOpened("s1", "web", "n", "tree", new Dictionary<string, string>(), _clock.GetUtcNow()))
            .Apply(new SetSealed("s1", "m", 1, 1, 1, 1, _clock.GetUtcNow(), _clock.GetUtcNow()));
        PlaceHold Hold(string by, string holdId, string signedHold) => new("s1", holdId, "case", by,
            Ed25519.Sign(_keys.PrivateKeyOf(by), SigningPayload.For(Keys.VaultId, SignedAction.PlaceHold, "s1", SigningPayload.TargetsDigest([RequestTargets.Hold("s1", signedHold)]))));

        var (placed, refusal) = HoldDecider.Place(set, Hold("carol", "case-1", "case-1"), Context);
        var held = set.Apply(placed!);
        var (_, twice) = HoldDecider.Place(held, Hold("bob", "case-1", "case-1"), Context);
        var (_, otherHold) = HoldDecider.Place(set, Hold("bob", "case-2", "case-1"), Context);
        var released = held.Apply(new LegalHoldReleased("s1", "case-1", "rel-1", _clock.GetUtcNow()));

        Assert.Null(refusal);
        Assert.Equal(["case-1"], held.Holds.Keys);
        Assert.Equal(RefusalCode.InvalidRequest, twice?.Code);
        Assert.Equal(RefusalCode.BadSignature, otherHold?.Code);
        Assert.Empty(released.Holds);
    }

    [Fact]
    public void a_hold_release_needs_the_quorum_and_a_hold_in_force()
    {
        string[] targets = [RequestTargets.Hold("s1", "case-1")];
        When((s, c) => DeletionDecider.Request(s, new RequestDeletion("rel-1", targets, "closed", "alice", _keys.Sign("alice", SignedAction.Request, "rel-1", targets), RequestKind.ReleaseHold), c));
        ApprovedBy("bob");
        _clock.Advance(TimeSpan.FromDays(5));
        var noQuorum = Executed();
        ApprovedBy("carol");
        _clock.Advance(TimeSpan.FromHours(72));
        var notHeld = When((s, c) => DeletionDecider.Execute(s, new Dictionary<string, SetProtection> { ["s1"] = SetProtection.None }, [], "ops", c));
        var held = When((s, c) => DeletionDecider.Execute(s, new Dictionary<string, SetProtection> { ["s1"] = new(DateTimeOffset.MinValue, ["case-1"]) }, [], "ops", c));

        Assert.Equal(RefusalCode.NoQuorum, noQuorum.Refusal?.Code);
        Assert.Equal(RefusalCode.InvalidRequest, notHeld.Refusal?.Code);
        Assert.True(held.Accepted, held.Refusal?.Reason);
    }
}
