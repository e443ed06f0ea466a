using Microsoft.Extensions.Time.Testing;
using Vault.Core.Governance;

namespace Vault.Core.Tests.Governance;

/// <summary>
/// Given/When/Then specs for every transition and refusal of a deletion request, on a fake clock.
/// Given: events so far; When: a command at the clock's time; Then: the events decided, or the refusal.
/// </summary>
public sealed class DeletionSpecs
{
    private static readonly string[] Targets = ["set-2026-11-01", "set-2026-11-02"];
    private readonly Keys _keys = new("alice", "bob", "carol", "dave");
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero));
    private readonly List<IRequestEvent> _history = [];
    private GovernanceRules _rules;

    public DeletionSpecs() => _rules = _keys.Rules(quorum: 3);

    private GovernanceContext Context => new(Keys.VaultId, _rules, _clock.GetUtcNow());

    private DeletionRequestState State => DeletionRequestState.Fold(_history);

    private Decision When(Func<DeletionRequestState, GovernanceContext, Decision> command)
    {
        var decision = command(State, Context);
        _history.AddRange(decision.Events);
        return decision;
    }

    private Decision Requested(string by = "alice", string id = "del-1") =>
        When((s, c) => DeletionDecider.Request(s, new RequestDeletion(id, Targets, "end of contract", by, _keys.Sign(by, SignedAction.Request, id, Targets)), c));

    private Decision Approved(string by, string id = "del-1") =>
        When((s, c) => DeletionDecider.Approve(s, new ApproveDeletion(id, by, _keys.Sign(by, SignedAction.Approve, id, Targets)), c));

    private Decision Vetoed(string by) =>
        When((s, c) => DeletionDecider.Veto(s, new VetoDeletion("del-1", by, "not agreed", _keys.Sign(by, SignedAction.Veto, "del-1", Targets)), c));

    /// <summary>Execution with every target a sealed set, unprotected unless <paramref name="protections"/> says otherwise.</summary>
    private Decision Executed(IReadOnlyDictionary<string, SetProtection>? protections = null)
    {
        var all = Targets.ToDictionary(t => t, t => protections?.GetValueOrDefault(t) ?? SetProtection.None);
        return When((s, c) => DeletionDecider.Execute(s, all, ["seg-a"], "ops", c));
    }

    [Fact]
    public void a_signed_request_counts_as_the_first_approval()
    {
        var decision = Requested();

        var requested = Assert.IsType<RequestOpened>(Assert.Single(decision.Events));
        Assert.Equal(Targets, requested.Targets);
        Assert.Equal(DeletionStatus.Pending, State.Status);
        Assert.Equal(["alice"], State.Approvals.Keys);
    }

    [Fact]
    public void m_minus_1_approvals_are_never_executable_however_long_one_waits()
    {
        Requested();
        Approved("bob");
        _clock.Advance(TimeSpan.FromDays(13));

        var decision = Executed();

        Assert.Equal(RefusalCode.NoQuorum, decision.Refusal?.Code);
        Assert.Contains("2 of the 3", decision.Refusal!.Reason);
        Assert.DoesNotContain(_history, e => e is RequestExecuted);
    }

    [Fact]
    public void the_mth_distinct_approval_reaches_quorum_and_the_delay_runs_from_then()
    {
        Requested();
        _clock.Advance(TimeSpan.FromHours(10));
        Approved("bob");
        _clock.Advance(TimeSpan.FromHours(20));
        var decision = Approved("carol");

        var quorum = Assert.IsType<RequestQuorumReached>(decision.Events[^1]);
        Assert.Equal(_clock.GetUtcNow() + TimeSpan.FromHours(72), quorum.ExecutableAfter);
        Assert.Equal(["alice", "bob", "carol"], quorum.Approvers);
    }

    [Fact]
    public void execution_is_refused_during_the_cooling_off_delay_and_allowed_after_it()
    {
        Requested();
        Approved("bob");
        Approved("carol");
        _clock.Advance(TimeSpan.FromHours(72) - TimeSpan.FromSeconds(1));

        Assert.Equal(RefusalCode.CoolingOff, Executed().Refusal?.Code);
        _clock.Advance(TimeSpan.FromSeconds(1));
        var decision = Executed();

        Assert.True(decision.Accepted, decision.Refusal?.Reason);
        Assert.Equal(["seg-a"], Assert.IsType<RequestExecuted>(Assert.Single(decision.Events)).SegmentsToRemove);
        Assert.Equal(RefusalCode.AlreadyExecuted, Executed().Refusal?.Code);
    }

    [Fact]
    public void a_veto_after_quorum_is_final()
    {
        Requested();
        Approved("bob");
        Approved("carol");
        _clock.Advance(TimeSpan.FromHours(1));
        Assert.True(Vetoed("dave").Accepted);
        _clock.Advance(TimeSpan.FromDays(10));

        Assert.Equal(RefusalCode.Vetoed, Executed().Refusal?.Code);
        Assert.Equal(RefusalCode.NotPending, Approved("dave").Refusal?.Code);
    }

    [Fact]
    public void silence_until_expiry_denies_the_request()
    {
        Requested();
        Approved("bob");
        _clock.Advance(TimeSpan.FromDays(14));

        var late = Approved("carol");

        Assert.Equal(RefusalCode.Expired, late.Refusal?.Code);
        Assert.IsType<RequestExpired>(late.Events[0]);
        Assert.Equal(DeletionStatus.Expired, State.Status);
        Assert.Equal(RefusalCode.Expired, Executed().Refusal?.Code);
    }

    [Fact]
    public void quorum_reached_before_expiry_is_not_undone_by_expiry()
    {
        Requested();
        Approved("bob");
        Approved("carol");
        _clock.Advance(TimeSpan.FromDays(20));

        Assert.True(Executed().Accepted);
    }

    [Fact]
    public void a_second_approval_by_the_same_approver_is_refused_and_recorded()
    {
        Requested();
        Approved("bob");

        var again = Approved("bob");

        Assert.Equal(RefusalCode.DuplicateApproval, again.Refusal?.Code);
        var attempt = Assert.IsType<RequestAttemptRefused>(Assert.Single(again.Events));
        Assert.Equal("bob", attempt.Actor);
        Assert.Equal(2, State.Approvals.Count);
    }

    [Fact]
    public void the_requester_cannot_approve_their_own_request_again()
    {
        Requested("alice");

        Assert.Equal(RefusalCode.DuplicateApproval, Approved("alice").Refusal?.Code);
    }

    [Fact]
    public void an_unregistered_approver_is_refused()
    {
        Requested();
        var outsider = new Keys("mallory");

        var decision = When((s, c) => DeletionDecider.Approve(s, new ApproveDeletion("del-1", "mallory", outsider.Sign("mallory", SignedAction.Approve, "del-1", Targets)), c));

        Assert.Equal(RefusalCode.UnknownApprover, decision.Refusal?.Code);
    }

    [Fact]
    public void a_signature_from_another_request_another_action_other_targets_or_another_vault_is_refused()
    {
        Requested();
        var forOther = _keys.Sign("bob", SignedAction.Approve, "del-2", Targets);
        var forVeto = _keys.Sign("bob", SignedAction.Veto, "del-1", Targets);
        var forFewer = _keys.Sign("bob", SignedAction.Approve, "del-1", Targets[..1]);
        var forVault = _keys.Sign("bob", SignedAction.Approve, "del-1", Targets, vaultId: "another-vault");

        foreach (var signature in new[] { forOther, forVeto, forFewer, forVault, new byte[64], Array.Empty<byte>() })
            Assert.Equal(RefusalCode.BadSignature, When((s, c) => DeletionDecider.Approve(s, new ApproveDeletion("del-1", "bob", signature), c)).Refusal?.Code);
        Assert.Single(State.Approvals);
    }

    [Fact]
    public void a_legal_hold_or_a_retention_lock_blocks_execution_whatever_the_quorum()
    {
        Requested();
        Approved("bob");
        Approved("carol");
        Approved("dave");
        _clock.Advance(TimeSpan.FromDays(5));
        var now = _clock.GetUtcNow();

        var held = Executed(new Dictionary<string, SetProtection> { [Targets[1]] = new(DateTimeOffset.MinValue, ["case-42"]) });
        var retained = Executed(new Dictionary<string, SetProtection> { [Targets[0]] = new(now.AddSeconds(1), []) });
        var free = Executed(new Dictionary<string, SetProtection> { [Targets[0]] = new(now, []) });

        Assert.Equal(RefusalCode.LegalHold, held.Refusal?.Code);
        Assert.Equal(RefusalCode.RetentionLocked, retained.Refusal?.Code);
        Assert.True(free.Accepted);
    }

    [Fact]
    public void a_target_that_is_not_a_sealed_set_is_never_executed()
    {
        Requested();
        Approved("bob");
        Approved("carol");
        _clock.Advance(TimeSpan.FromDays(4));

        var decision = When((s, c) => DeletionDecider.Execute(s, new Dictionary<string, SetProtection> { [Targets[0]] = SetProtection.None }, [], "ops", c));

        Assert.Equal(RefusalCode.InvalidRequest, decision.Refusal?.Code);
        Assert.Contains(Targets[1], decision.Refusal!.Reason);
    }

    [Fact]
    public void a_request_without_targets_or_reusing_an_id_is_refused()
    {
        Requested();

        var reused = Requested("bob");
        var empty = When((s, c) => DeletionDecider.Request(DeletionRequestState.Empty, new RequestDeletion("del-9", [], "x", "bob", _keys.Sign("bob", SignedAction.Request, "del-9", [])), c));

        Assert.Equal(RefusalCode.InvalidRequest, reused.Refusal?.Code);
        Assert.Equal(RefusalCode.InvalidRequest, empty.Refusal?.Code);
    }

    [Fact]
    public void rules_refuse_a_quorum_below_two_or_above_the_approvers()
    {
        Assert.Throws<ArgumentException>(() => _keys.Rules(quorum: 1));
        Assert.Throws<ArgumentException>(() => _keys.Rules(quorum: 5));
        _rules = _keys.Rules(quorum: 4);
        Assert.Equal(4, _rules.Quorum);
    }
}
