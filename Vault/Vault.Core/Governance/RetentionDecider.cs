using Vault.Core.Sets;

namespace Vault.Core.Governance;

public sealed record ExtendRetention(string SetId, DateTimeOffset RetainUntil, ApproverId ExtendedBy, byte[] Signature, Witness? Seen = null);

/// <summary>Retention can be lengthened by any one registered approver, with a signature over the set and the new date; never shortened.</summary>
public static class RetentionDecider
{
    public static (RetentionExtended? Extended, Refusal? Refusal) Extend(BackupSetState set, ExtendRetention command, GovernanceContext context)
    {
        if (set.Status != SetStatus.Sealed)
            return (null, new Refusal(RefusalCode.InvalidRequest, $"Set {command.SetId} is not a sealed set of this vault."));
        var approver = context.Rules.Find(command.ExtendedBy);
        if (approver is null)
            return (null, new Refusal(RefusalCode.UnknownApprover, $"{command.ExtendedBy} is not a registered approver of this vault."));
        var digest = SigningPayload.TargetsDigest([RetentionExtended.Target(command.SetId, command.RetainUntil)]);
        if (!Ed25519.Verify(approver.PublicKey, SigningPayload.For(context.VaultId, SignedAction.ExtendRetention, command.SetId, digest, command.Seen), command.Signature))
            return (null, new Refusal(RefusalCode.BadSignature, $"The signature is not {command.ExtendedBy}'s over this vault, set {command.SetId} and that date."));
        if (command.RetainUntil <= set.RetainUntil)
            return (null, new Refusal(RefusalCode.RetentionLocked,
                $"Set {command.SetId} is already retained until {set.RetainUntil:u}; retention can be extended, never shortened."));
        return (new RetentionExtended(command.SetId, command.RetainUntil, command.ExtendedBy.Value, Convert.ToHexStringLower(command.Signature), context.Now, command.Seen?.Position, command.Seen?.Head), null);
    }
}
