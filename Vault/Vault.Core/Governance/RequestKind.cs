namespace Vault.Core.Governance;

/// <summary>
/// What a protected request does once M approvers signed and the delay passed. All three go through the same
/// workflow (request, approvals, quorum, cooling-off, veto, expiry); only the subject and the effect differ.
/// </summary>
public enum RequestKind
{
    /// <summary>Delete backup sets (targets are set ids).</summary>
    Delete,

    /// <summary>Replace the governance rules (one target: "governance:v{rules version}:{document digest}").</summary>
    ChangeGovernance,

    /// <summary>Release a legal hold (one target: "hold:{set}/{hold id}").</summary>
    ReleaseHold,

    /// <summary>
    /// A rotation action that loosens protection (one target: "rotation:policy:{SHA-256 of the policy JSON}",
    /// "rotation:ship:{label}:{site}" or "rotation:lose:{label}"); a policy travels in the request's subject.
    /// </summary>
    Rotation,
}

/// <summary>The target strings a signature covers for the non-deletion kinds; set ids cannot contain ':', so they never collide.</summary>
public static class RequestTargets
{
    public static string Governance(GovernanceDocument proposal, long rulesVersion) => $"governance:v{rulesVersion}:{proposal.Digest()}";

    public static string Hold(string setId, string holdId) => $"hold:{setId}/{holdId}";

    public const string RotationPrefix = "rotation:";

    /// <summary>The target of a rotation policy change: the SHA-256 of the policy document exactly as carried.</summary>
    public static string RotationPolicy(string document) =>
        $"{RotationPrefix}policy:{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(document)))}";

    public static string RotationShip(string label, string site) => $"{RotationPrefix}ship:{label}:{site}";

    public static string RotationLose(string label) => $"{RotationPrefix}lose:{label}";

    public static bool TryParseHold(string target, out string setId, out string holdId)
    {
        setId = holdId = "";
        if (!target.StartsWith("hold:", StringComparison.Ordinal))
            return false;
        var slash = target.IndexOf('/', 5);
        if (slash < 6 || slash == target.Length - 1)
            return false;
        (setId, holdId) = (target[5..slash], target[(slash + 1)..]);
        return true;
    }
}
