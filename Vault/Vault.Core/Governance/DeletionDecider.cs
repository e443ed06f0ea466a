namespace Vault.Core.Governance;

/// <summary>
/// The Code Spaces rule as a pure function: nothing is deleted unless M distinct registered approvers signed these
/// exact targets, the cooling-off delay has passed since quorum, nobody vetoed, the request did not expire first,
/// and no target is under a retention lock or legal hold. Every refusal is itself recorded.
/// </summary>
public static class DeletionDecider
{
    public static Decision Request(DeletionRequestState state, RequestDeletion command, GovernanceContext context)
    {
        var action = "request";
        if (state.Status != DeletionStatus.None)
            return Refuse(command.RequestId, command.RequestedBy.Value, action, RefusalCode.InvalidRequest, $"Request {command.RequestId} already exists; choose a new request id.", context);
        if (command.Targets.Count == 0 || command.Targets.Any(string.IsNullOrWhiteSpace))
            return Refuse(command.RequestId, command.RequestedBy.Value, action, RefusalCode.InvalidRequest, "A request names at least one target, and no blank one.", context);
        if (Subject(command, context) is { } invalid)
            return Refuse(command.RequestId, command.RequestedBy.Value, action, invalid.Code, invalid.Reason, context);
        var digest = SigningPayload.TargetsDigest(command.Targets);
        if (CheckSigner(command.RequestId, command.RequestedBy, SignedAction.Request, digest, command.Signature, command.Seen, action, context) is { } refused)
            return refused;

        var targets = command.Targets.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        IReadOnlyList<string>? loosening = command.Kind switch
        {
            RequestKind.ChangeGovernance => GovernanceChange.Loosening(context.Rules, command.Governance!.ToRules()),
            RequestKind.Rotation => command.Loosening is { Count: > 0 } why ? why : ["a rotation action that loosens protection"],
            _ => null,
        };
        return Accept(new RequestOpened(command.RequestId, targets, digest, command.Reason, command.RequestedBy.Value, Convert.ToHexStringLower(command.Signature), context.Now,
            command.Kind, command.Governance, command.RulesVersion, loosening, command.Seen?.Position, command.Seen?.Head, command.Kind == RequestKind.Rotation ? command.Subject : null));
    }

    /// <summary>Is the request's subject well formed for its kind? A refusal when not.</summary>
    private static Refusal? Subject(RequestDeletion command, GovernanceContext context)
    {
        switch (command.Kind)
        {
            case RequestKind.Delete when command.Targets.Any(t => t.Contains(':', StringComparison.Ordinal)):
                return new Refusal(RefusalCode.InvalidRequest, "A deletion request names backup sets only.");
            case RequestKind.ChangeGovernance:
                if (command.Governance is not { } proposal || command.RulesVersion is not { } version)
                    return new Refusal(RefusalCode.InvalidRequest, "A governance change carries the proposed rules and the version of the rules it replaces.");
                if (version != context.RulesVersion)
                    return new Refusal(RefusalCode.StaleProposal, $"The proposal replaces the rules at version {version}, but the rules in force are at version {context.RulesVersion}; read them again and propose again.");
                try
                {
                    proposal.ToRules();
                }
                catch (Exception ex) when (ex is ArgumentException or FormatException)
                {
                    return new Refusal(RefusalCode.InvalidRequest, $"The proposed rules are not valid: {ex.Message}");
                }

                if (proposal.Digest() == GovernanceDocument.From(context.Rules).Digest())
                    return new Refusal(RefusalCode.InvalidRequest, "The proposed rules are the rules in force; there is nothing to change.");
                if (command.Targets.Count != 1 || command.Targets[0] != RequestTargets.Governance(proposal, version))
                    return new Refusal(RefusalCode.InvalidRequest, "A governance change has exactly one target, naming the rules version and the proposal's digest.");
                return null;
            case RequestKind.ReleaseHold when command.Targets.Count != 1 || !RequestTargets.TryParseHold(command.Targets[0], out _, out _):
                return new Refusal(RefusalCode.InvalidRequest, "A hold release has exactly one target, 'hold:SET/HOLD'.");
            case RequestKind.Rotation when command.Targets.Count != 1 || !command.Targets[0].StartsWith(RequestTargets.RotationPrefix, StringComparison.Ordinal):
                return new Refusal(RefusalCode.InvalidRequest, "A rotation request has exactly one target, 'rotation:...'.");
            case RequestKind.Rotation when command.Targets[0].StartsWith(RequestTargets.RotationPrefix + "policy:", StringComparison.Ordinal)
                                            && (command.Subject is null || RequestTargets.RotationPolicy(command.Subject) != command.Targets[0]):
                return new Refusal(RefusalCode.InvalidRequest, "A rotation policy request carries the policy whose SHA-256 its target names.");
            default:
                return null;
        }
    }

    public static Decision Approve(DeletionRequestState state, ApproveDeletion command, GovernanceContext context)
    {
        const string action = "approve";
        if (Admit(state, command.RequestId, command.ApprovedBy, SignedAction.Approve, command.Signature, command.Seen, context) is { } refused)
            return refused;
        if (state.Approvals.ContainsKey(command.ApprovedBy.Value))
            return Refuse(command.RequestId, command.ApprovedBy.Value, action, RefusalCode.DuplicateApproval,
                $"{command.ApprovedBy} has already signed request {command.RequestId}; quorum needs {context.Rules.Quorum} different approvers.", context);

        var approved = new RequestApproved(command.RequestId, command.ApprovedBy.Value, Convert.ToHexStringLower(command.Signature), context.Now, command.Seen?.Position, command.Seen?.Head);
        var approvers = state.Approvals.Keys.Append(command.ApprovedBy.Value).Order(StringComparer.Ordinal).ToArray();
        if (state.Status == DeletionStatus.Pending && approvers.Length >= context.Rules.Quorum)
            return new Decision([approved, new RequestQuorumReached(command.RequestId, approvers, context.Now + Delay(state, context.Rules), context.Now)], null);
        return Accept(approved);
    }

    public static Decision Veto(DeletionRequestState state, VetoDeletion command, GovernanceContext context)
    {
        if (Admit(state, command.RequestId, command.VetoedBy, SignedAction.Veto, command.Signature, command.Seen, context) is { } refused)
            return refused;
        if (OwnRemoval(state, command.VetoedBy, context) is { } own)
            return Refuse(command.RequestId, command.VetoedBy.Value, "veto", RefusalCode.OwnRemoval, own, context);
        return Accept(new RequestVetoed(command.RequestId, command.VetoedBy.Value, command.Reason, Convert.ToHexStringLower(command.Signature), context.Now, command.Seen?.Position, command.Seen?.Head));
    }

    /// <summary>
    /// A governance change that removes an approver or replaces their key cannot be vetoed by that approver: otherwise
    /// a stolen key would protect itself for ever, and the defenders could never take it out (docs/governance.md).
    /// </summary>
    public static string? OwnRemoval(DeletionRequestState state, ApproverId vetoer, GovernanceContext context)
    {
        if (state.Kind != RequestKind.ChangeGovernance || state.Governance is not { } proposal || context.Rules.Find(vetoer) is not { } current)
            return null;
        var kept = proposal.Approvers.FirstOrDefault(a => a.Id == vetoer.Value);
        if (kept is null)
            return $"{vetoer} cannot veto request {state.RequestId}: it removes {vetoer} as an approver, and nobody vetoes their own removal.";
        return !string.Equals(kept.PublicKey, current.PublicKeyHex, StringComparison.OrdinalIgnoreCase)
            ? $"{vetoer} cannot veto request {state.RequestId}: it replaces {vetoer}'s key, and nobody vetoes the replacement of their own key."
            : null;
    }

    /// <summary>Records the expiry of a request that never reached quorum; nothing when it is not due.</summary>
    public static Decision Expire(DeletionRequestState state, GovernanceContext context) =>
        IsExpired(state, context) ? Accept(new RequestExpired(state.RequestId, context.Now)) : new Decision([], null);

    /// <summary>
    /// May the request execute now? If so, the execution event naming the segments to remove (computed by the caller).
    /// <paramref name="protections"/> holds an entry for every sealed set; a target without one is refused.
    /// </summary>
    public static Decision Execute(DeletionRequestState state, IReadOnlyDictionary<string, SetProtection> protections, IReadOnlyList<string> segmentsToRemove, string actor, GovernanceContext context)
    {
        const string action = "execute";
        var id = state.RequestId;
        if (MayExecute(state, actor, context) is { } refused)
            return refused;
        switch (state.Kind)
        {
            case RequestKind.ChangeGovernance or RequestKind.Rotation:
                return Accept(new RequestExecuted(id, state.Targets, [], context.Now));
            case RequestKind.ReleaseHold:
                RequestTargets.TryParseHold(state.Targets[0], out var setId, out var holdId);
                if (!protections.TryGetValue(setId, out var held) || !held.ActiveHolds.Contains(holdId, StringComparer.Ordinal))
                    return Refuse(id, actor, action, RefusalCode.InvalidRequest, $"Set {setId} has no hold {holdId} in force; there is nothing to release.", context);
                return Accept(new RequestExecuted(id, state.Targets, [], context.Now));
        }

        foreach (var target in state.Targets)
        {
            if (!protections.TryGetValue(target, out var protection))
                return Refuse(id, actor, action, RefusalCode.InvalidRequest, $"Set {target} is not a sealed set of this vault (never sealed, or already deleted); nothing was deleted.", context);
            if (protection.ActiveHolds.Count > 0)
                return Refuse(id, actor, action, RefusalCode.LegalHold, $"Set {target} is under legal hold ({string.Join(", ", protection.ActiveHolds)}); release needs a quorum.", context);
            if (protection.RetainUntil > context.Now)
                return Refuse(id, actor, action, RefusalCode.RetentionLocked, $"Set {target} is retained until {protection.RetainUntil:u}; no quorum can shorten that.", context);
        }

        return Accept(new RequestExecuted(id, state.Targets, segmentsToRemove, context.Now));
    }

    /// <summary>
    /// The part of <see cref="Execute"/> that depends on the request alone: quorum reached, the delay passed, not
    /// vetoed, expired or executed, and (for a governance change) the rules it was proposed against still in force.
    /// Null when it may execute as far as the request goes; the refusal otherwise.
    /// </summary>
    public static Decision? MayExecute(DeletionRequestState state, string actor, GovernanceContext context)
    {
        const string action = "execute";
        var id = state.RequestId;
        switch (state.Status)
        {
            case DeletionStatus.None:
                return Refuse(id, actor, action, RefusalCode.InvalidRequest, "There is no such deletion request.", context);
            case DeletionStatus.Vetoed:
                return Refuse(id, actor, action, RefusalCode.Vetoed, $"Request {id} was vetoed; a veto is final.", context);
            case DeletionStatus.Executed:
                return Refuse(id, actor, action, RefusalCode.AlreadyExecuted, $"Request {id} has already been executed.", context);
            case DeletionStatus.Expired:
                return Refuse(id, actor, action, RefusalCode.Expired, $"Request {id} expired without quorum and is denied.", context);
            case DeletionStatus.Pending when IsExpired(state, context):
                return Refuse(id, actor, action, RefusalCode.Expired, $"Request {id} expired without quorum and is denied.", context, new RequestExpired(id, context.Now));
            case DeletionStatus.Pending:
                return Refuse(id, actor, action, RefusalCode.NoQuorum,
                    $"Request {id} has {state.Approvals.Count} of the {context.Rules.Quorum} signatures it needs.", context);
        }

        if (context.Now < state.ExecutableAfter)
            return Refuse(id, actor, action, RefusalCode.CoolingOff,
                $"Request {id} is cooling off until {state.ExecutableAfter:u} ({(state.ExecutableAfter!.Value - context.Now).TotalHours:F1} h left); any approver can still veto.", context);
        switch (state.Kind)
        {
            case RequestKind.ChangeGovernance when state.RulesVersion != context.RulesVersion:
                return Refuse(id, actor, action, RefusalCode.StaleProposal,
                    $"The rules changed after request {id} was made (version {state.RulesVersion}, now {context.RulesVersion}); it cannot apply. Propose again.", context);
        }

        return null;
    }

    /// <summary>The cooling-off delay after quorum: D, or twice D for a governance change that loosens protection.</summary>
    public static TimeSpan Delay(DeletionRequestState state, GovernanceRules rules) => state.Loosening.Count > 0 ? rules.CoolingOff * 2 : rules.CoolingOff;

    public static bool IsExpired(DeletionRequestState state, GovernanceContext context) =>
        state.Status == DeletionStatus.Pending && context.Now >= state.RequestedAt + context.Rules.RequestExpiry;

    /// <summary>May this signer act on this request now? The request must be open, the signer registered, the signature theirs.</summary>
    private static Decision? Admit(DeletionRequestState state, string requestId, ApproverId signer, SignedAction signed, byte[] signature, Witness? seen, GovernanceContext context)
    {
        var action = SigningPayload.Name(signed);
        return Unavailable(state, requestId, signer.Value, action, context)
            ?? CheckSigner(requestId, signer, signed, state.TargetsDigest, signature, seen, action, context);
    }

    private static Decision? Unavailable(DeletionRequestState state, string requestId, string actor, string action, GovernanceContext context) => state.Status switch
    {
        DeletionStatus.None => Refuse(requestId, actor, action, RefusalCode.InvalidRequest, $"There is no deletion request {requestId}.", context),
        DeletionStatus.Vetoed or DeletionStatus.Expired or DeletionStatus.Executed => Refuse(requestId, actor, action, RefusalCode.NotPending,
            $"Request {requestId} is {state.Status.ToString().ToLowerInvariant()}; nothing can be added to it.", context),
        DeletionStatus.Pending when IsExpired(state, context) => Refuse(requestId, actor, action, RefusalCode.Expired,
            $"Request {requestId} expired at {state.RequestedAt + context.Rules.RequestExpiry:u} without quorum and is denied.", context, new RequestExpired(requestId, context.Now)),
        _ => null,
    };

    private static Decision? CheckSigner(string requestId, ApproverId signer, SignedAction signed, string digest, byte[] signature, Witness? seen, string action, GovernanceContext context)
    {
        var approver = context.Rules.Find(signer);
        if (approver is null)
            return Refuse(requestId, signer.Value, action, RefusalCode.UnknownApprover, $"{signer} is not a registered approver of this vault.", context);
        if (!Ed25519.Verify(approver.PublicKey, SigningPayload.For(context.VaultId, signed, requestId, digest, seen), signature))
            return Refuse(requestId, signer.Value, action, RefusalCode.BadSignature,
                $"The signature is not {signer}'s over this vault, request {requestId}, the action '{SigningPayload.Name(signed)}' and these exact targets.", context);
        return null;
    }

    private static Decision Accept(IRequestEvent e) => new([e], null);

    private static Decision Refuse(string requestId, string actor, string action, RefusalCode code, string reason, GovernanceContext context, IRequestEvent? first = null)
    {
        var refused = new RequestAttemptRefused(requestId, actor, action, code, reason, context.Now);
        return new Decision(first is null ? [refused] : [first, refused], new Refusal(code, reason));
    }
}
