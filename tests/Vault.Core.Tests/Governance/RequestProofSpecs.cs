using Vault.Core.Governance;

namespace Vault.Core.Tests.Governance;

/// <summary>A request is re-proved from its signed records: derived records and unverifiable signatures count for nothing.</summary>
public sealed class RequestProofSpecs
{
    private static readonly string[] Targets = ["set-a"];
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 9, 0, 0, TimeSpan.Zero);
    private readonly Keys _keys = new("alice", "bob", "carol");

    private GovernanceContext Context(GovernanceRules rules) => new(Keys.VaultId, rules, T0);

    private RequestOpened Request(string by = "alice") =>
        new("del-1", Targets, SigningPayload.TargetsDigest(Targets), "why", by, Convert.ToHexStringLower(_keys.Sign(by, SignedAction.Request, "del-1", Targets)), T0);

    private RequestApproved Approval(string by, DateTimeOffset at, byte[]? signature = null) =>
        new("del-1", by, Convert.ToHexStringLower(signature ?? _keys.Sign(by, SignedAction.Approve, "del-1", Targets)), at);

    [Fact]
    public void quorum_and_its_delay_come_from_the_valid_signatures_not_from_a_recorded_quorum()
    {
        var rules = _keys.Rules(quorum: 2, coolingOff: TimeSpan.FromHours(72));
        var approvedAt = T0.AddHours(1);
        var proof = RequestProof.Of([(2, Request()), (3, Approval("bob", approvedAt)), (4, new RequestQuorumReached("del-1", ["alice", "bob"], T0.AddDays(-9), approvedAt))], _ => Context(rules));

        Assert.Equal(DeletionStatus.QuorumReached, proof.State.Status);
        Assert.Equal(approvedAt.AddHours(72), proof.State.ExecutableAfter);
        var finding = Assert.Single(proof.Findings);
        Assert.Equal((4L, "quorum"), (finding.Position, finding.Rule));
    }

    [Theory]
    [InlineData("zero")]
    [InlineData("other-request")]
    [InlineData("stranger")]
    public void an_approval_whose_signature_does_not_verify_adds_nothing_and_is_named(string forgery)
    {
        var rules = _keys.Rules(quorum: 2);
        var signature = forgery switch
        {
            "zero" => new byte[64],
            "other-request" => _keys.Sign("bob", SignedAction.Approve, "del-2", Targets),
            _ => Ed25519.Sign(Ed25519.CreateKeyPair().PrivateKey, SigningPayload.For(Keys.VaultId, SignedAction.Approve, "del-1", SigningPayload.TargetsDigest(Targets))),
        };
        var proof = RequestProof.Of([(2, Request()), (3, Approval("bob", T0.AddHours(1), signature)), (4, new RequestExecuted("del-1", Targets, [], T0.AddDays(5)))], _ => Context(rules));

        Assert.Equal(DeletionStatus.Pending, proof.State.Status);
        Assert.Null(proof.Execution);
        Assert.Equal([3L, 4L], proof.Findings.Select(f => f.Position));
        Assert.Equal("signature", proof.Findings[0].Rule);
        Assert.Equal("execution", proof.Findings[1].Rule);
    }

    [Fact]
    public void an_execution_recorded_on_other_targets_than_the_signed_ones_deletes_nothing_and_is_named()
    {
        // Found by the read-model property test: one record appended behind the vault's back on an executable request's
        // stream, naming another set, used to count as that set's deletion in every replay.
        var rules = _keys.Rules(quorum: 2, coolingOff: TimeSpan.FromHours(1));
        var proof = RequestProof.Of([(2, Request()), (3, Approval("bob", T0.AddHours(1))), (4, new RequestExecuted("del-1", ["set-b"], [], T0.AddDays(1))),
            (5, new RequestExecuted("del-1", ["set-a", "set-b"], [], T0.AddDays(1)))], _ => Context(rules));

        Assert.Null(proof.Execution);
        Assert.Equal(DeletionStatus.QuorumReached, proof.State.Status);
        Assert.Equal([(4L, "execution-targets"), (5L, "execution-targets")], proof.Findings.Select(f => (f.Position, f.Rule)));

        var honest = RequestProof.Of([(2, Request()), (3, Approval("bob", T0.AddHours(1))), (4, new RequestExecuted("del-1", ["set-a"], [], T0.AddDays(1)))], _ => Context(rules));
        Assert.Equal(["set-a"], honest.Execution!.Targets);
        Assert.Empty(honest.Findings);
    }

    [Fact]
    public void the_approver_a_governance_change_removes_cannot_veto_it_but_others_can()
    {
        var rules = _keys.Rules(quorum: 2);
        var proposal = GovernanceDocument.From(rules) with { Approvers = [.. GovernanceDocument.From(rules).Approvers.Where(a => a.Id != "carol")] };
        string[] targets = [RequestTargets.Governance(proposal, 0)];
        var state = DeletionDecider.Request(DeletionRequestState.Empty,
            new RequestDeletion("gov-1", targets, "carol leaves", "alice", _keys.Sign("alice", SignedAction.Request, "gov-1", targets), RequestKind.ChangeGovernance, proposal, 0), Context(rules));
        var pending = DeletionRequestState.Fold(state.Events);

        var carol = DeletionDecider.Veto(pending, new VetoDeletion("gov-1", "carol", "no", _keys.Sign("carol", SignedAction.Veto, "gov-1", targets)), Context(rules));
        var bob = DeletionDecider.Veto(pending, new VetoDeletion("gov-1", "bob", "no", _keys.Sign("bob", SignedAction.Veto, "gov-1", targets)), Context(rules));

        Assert.Equal(RefusalCode.OwnRemoval, carol.Refusal?.Code);
        Assert.True(bob.Accepted);
    }
}
