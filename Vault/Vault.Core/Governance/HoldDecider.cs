using System.Text.RegularExpressions;
using Vault.Core.Sets;

namespace Vault.Core.Governance;

public sealed record PlaceHold(string SetId, string HoldId, string Reason, ApproverId PlacedBy, byte[] Signature, Witness? Seen = null);

/// <summary>
/// Legal holds: one registered approver places a hold (signed over the set and the hold id); while it stands, no
/// deletion of the set can execute whatever the quorum. Releasing it is a protected request that needs the quorum.
/// </summary>
public static partial class HoldDecider
{
    public static (LegalHoldPlaced? Placed, Refusal? Refusal) Place(BackupSetState set, PlaceHold command, GovernanceContext context)
    {
        if (!HoldIdPattern().IsMatch(command.HoldId))
            return (null, new Refusal(RefusalCode.InvalidRequest, $"'{command.HoldId}' is not a hold id: use 1 to 64 lower-case letters, digits, '.', '_' and '-'."));
        if (set.Status != SetStatus.Sealed)
            return (null, new Refusal(RefusalCode.InvalidRequest, $"Set {command.SetId} is not a sealed set of this vault."));
        var approver = context.Rules.Find(command.PlacedBy);
        if (approver is null)
            return (null, new Refusal(RefusalCode.UnknownApprover, $"{command.PlacedBy} is not a registered approver of this vault."));
        var digest = SigningPayload.TargetsDigest([RequestTargets.Hold(command.SetId, command.HoldId)]);
        if (!Ed25519.Verify(approver.PublicKey, SigningPayload.For(context.VaultId, SignedAction.PlaceHold, command.SetId, digest, command.Seen), command.Signature))
            return (null, new Refusal(RefusalCode.BadSignature, $"The signature is not {command.PlacedBy}'s over this vault, set {command.SetId} and hold {command.HoldId}."));
        if (set.Holds.ContainsKey(command.HoldId))
            return (null, new Refusal(RefusalCode.InvalidRequest, $"Set {command.SetId} is already under hold {command.HoldId}."));
        return (new LegalHoldPlaced(command.SetId, command.HoldId, command.Reason, command.PlacedBy.Value, Convert.ToHexStringLower(command.Signature), context.Now, command.Seen?.Position, command.Seen?.Head), null);
    }

    public static bool IsValidHoldId(string holdId) => HoldIdPattern().IsMatch(holdId);

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex HoldIdPattern();
}
