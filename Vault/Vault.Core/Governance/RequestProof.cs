namespace Vault.Core.Governance;

/// <summary>A record the rules would not have produced: where it is, which rule it breaks, in one sentence.</summary>
public sealed record ProofFinding(long Position, string Rule, string Detail);

/// <summary>
/// One protected request re-proved from its signed records. Every record is replayed through the same deciders that
/// made it, with the rules in force at its position and its own time: a request or approval counts only if the
/// decider, given the recorded signature, would accept it again; quorum and the delay are what the replay computes,
/// never what a recorded <see cref="RequestQuorumReached"/> says; an execution or expiry counts only if the replay
/// allows it at its time. Whatever the replay would not have produced is a <see cref="ProofFinding"/>, and changes
/// nothing. Derived records are summaries, never proof.
/// </summary>
public sealed class RequestProof
{
    private readonly List<ProofFinding> _findings = [];

    public DeletionRequestState State { get; private set; } = DeletionRequestState.Empty;

    /// <summary>The records that hold, in order: the evidence a decision may rest on.</summary>
    public List<IRequestEvent> Accepted { get; } = [];

    public IReadOnlyList<ProofFinding> Findings => _findings;

    /// <summary>The <see cref="RequestExecuted"/> that the replay accepted, if any.</summary>
    public RequestExecuted? Execution { get; private set; }

    /// <summary>
    /// Replays one record of the request's stream. <paramref name="context"/> is the rules in force just before
    /// <paramref name="position"/> (Now is ignored: each record is judged at its own time). <paramref name="protections"/>,
    /// when given, is what protected every sealed set just before the record; an execution is then judged in full.
    /// </summary>
    public void Apply(long position, IRequestEvent e, GovernanceContext context, IReadOnlyDictionary<string, SetProtection>? protections = null)
    {
        try
        {
            ApplyChecked(position, e, context, protections);
        }
        catch (Exception ex) when (ex is ArgumentException or NullReferenceException or FormatException or InvalidOperationException)
        {
            _findings.Add(new ProofFinding(position, "malformed", $"the {e.GetType().Name} record of request {e.RequestId} lacks or mangles a field ({ex.Message})"));
        }
    }

    private void ApplyChecked(long position, IRequestEvent e, GovernanceContext context, IReadOnlyDictionary<string, SetProtection>? protections)
    {
        var at = context with { Now = e.At };
        switch (e)
        {
            case RequestOpened r:
                Replay(position, r, DeletionDecider.Request(State, new RequestDeletion(r.RequestId, r.Targets, r.Reason, r.RequestedBy, Hex(r.Signature), r.Kind, r.Governance, r.RulesVersion,
                    Witness.From(r.SeenPosition, r.SeenHead), r.Subject, r.Loosening), at), "request");
                if (State.Status == DeletionStatus.Pending && State.RequestId == r.RequestId && !SameRequest(r))
                    _findings.Add(new ProofFinding(position, "derived-fields", $"request {r.RequestId} records a targets digest or loosening that its own targets and rules do not give"));
                break;
            case RequestApproved a:
                Replay(position, a, DeletionDecider.Approve(State, new ApproveDeletion(a.RequestId, a.ApprovedBy, Hex(a.Signature), Witness.From(a.SeenPosition, a.SeenHead)), at), "approval");
                break;
            case RequestVetoed v:
                Replay(position, v, DeletionDecider.Veto(State, new VetoDeletion(v.RequestId, v.VetoedBy, v.Reason, Hex(v.Signature), Witness.From(v.SeenPosition, v.SeenHead)), at), "veto");
                break;
            case RequestQuorumReached q:
                if (State.Status != DeletionStatus.QuorumReached || State.ExecutableAfter != q.ExecutableAfter
                    || !State.Approvals.Keys.Order(StringComparer.Ordinal).SequenceEqual(q.Approvers.Order(StringComparer.Ordinal), StringComparer.Ordinal))
                {
                    _findings.Add(new ProofFinding(position, "quorum",
                        $"request {q.RequestId} records a quorum of {string.Join(", ", q.Approvers)} executable after {q.ExecutableAfter:u}, but its valid signatures give "
                        + (State.Status == DeletionStatus.QuorumReached ? $"{string.Join(", ", State.Approvals.Keys.Order(StringComparer.Ordinal))} executable after {State.ExecutableAfter:u}" : $"{State.Approvals.Count} of the {context.Rules.Quorum} needed")));
                }

                break;
            case RequestExpired x:
                var expiry = DeletionDecider.Expire(State, at);
                if (expiry.Events.Count == 0)
                    _findings.Add(new ProofFinding(position, "expiry", $"request {x.RequestId} is recorded as expired at {x.At:u}, but it was {State.Status.ToString().ToLowerInvariant()} and not past its expiry then"));
                else
                    Take(x);
                break;
            case RequestExecuted done:
                // A governance change or hold release is marked executed after its effect, which is proved where it
                // is recorded (GovernanceChanged, LegalHoldReleased); here only the request's own quorum and delay.
                var refusal = protections is null || State.Kind != RequestKind.Delete
                    ? DeletionDecider.MayExecute(State, "replay", State.Kind == RequestKind.ChangeGovernance ? at with { RulesVersion = State.RulesVersion ?? at.RulesVersion } : at)
                    : DeletionDecider.Execute(State, protections, done.SegmentsToRemove, "replay", at) is { Accepted: false } refused ? refused : null;
                if (!SameTargets(done.Targets, State.Targets))
                {
                    // Without this, one record appended behind the vault's back on any executable request's stream would
                    // count as the deletion of sets nobody signed for (and their bytes would stop counting as referenced).
                    _findings.Add(new ProofFinding(position, "execution-targets",
                        $"request {done.RequestId} is recorded as executed on {string.Join(", ", done.Targets)}, but its signed targets are {string.Join(", ", State.Targets)}"));
                }
                else if (refusal?.Refusal is { } why)
                {
                    _findings.Add(new ProofFinding(position, "execution", $"request {done.RequestId} is recorded as executed at {done.At:u}, but the rules would have refused it then ({why.Code}: {why.Reason})"));
                }
                else
                {
                    Execution = done;
                    Take(done);
                }

                break;
        }
    }

    private static bool SameTargets(IReadOnlyList<string>? recorded, IReadOnlyList<string> signed) =>
        recorded is not null && recorded.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).SequenceEqual(signed.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal), StringComparer.Ordinal);

    /// <summary>Folds a whole request stream with one rules context (a stream read alone, for the service's decisions).</summary>
    public static RequestProof Of(IEnumerable<(long Position, IRequestEvent Event)> records, Func<long, GovernanceContext> rulesAt)
    {
        var proof = new RequestProof();
        foreach (var (position, e) in records)
            proof.Apply(position, e, rulesAt(position));
        return proof;
    }

    private void Replay(long position, IRequestEvent recorded, Decision decision, string what)
    {
        if (decision.Refusal is { } refusal)
        {
            _findings.Add(new ProofFinding(position, refusal.Code is RefusalCode.BadSignature or RefusalCode.UnknownApprover ? "signature" : what,
                $"the {what} of request {recorded.RequestId} would not be accepted ({refusal.Code}: {refusal.Reason})"));
            return;
        }

        foreach (var produced in decision.Events)
        {
            State = State.Apply(produced);
            if (produced is RequestQuorumReached)
                continue;
            Accepted.Add(recorded);
        }
    }

    private void Take(IRequestEvent e)
    {
        State = State.Apply(e);
        Accepted.Add(e);
    }

    private bool SameRequest(RequestOpened r) =>
        r.TargetsDigest == State.TargetsDigest
        && (r.Loosening ?? []).SequenceEqual(State.Loosening, StringComparer.Ordinal);

    private static byte[] Hex(string? signature)
    {
        if (signature is null)
            return [];
        try
        {
            return Convert.FromHexString(signature);
        }
        catch (FormatException)
        {
            return [];
        }
    }
}
