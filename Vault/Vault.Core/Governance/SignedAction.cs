using System.Security.Cryptography;
using System.Text;

namespace Vault.Core.Governance;

/// <summary>What an approver's signature commits to (docs/governance.md).</summary>
public enum SignedAction
{
    Request,
    Approve,
    Veto,
    /// <summary>One approver lengthens a set's retention (the subject is the set id, the target "SET@UNIXSECONDS").</summary>
    ExtendRetention,
    /// <summary>One approver places a legal hold on a set (the subject is the set id, the target "hold:SET/HOLD").</summary>
    PlaceHold,
}

/// <summary>
/// The exact bytes an approver signs: "vault-governance/v1", the vault id, the action, the request id and the
/// hex SHA-256 digest of the targets, each followed by a newline, in UTF-8. A signature therefore cannot be replayed
/// on another vault, another request, another action or other targets.
/// </summary>
public static class SigningPayload
{
    public const string Domain = "vault-governance/v1";

    /// <summary>Signatures that also witness history: v1's lines, then "seen POSITION HEADHASH" (docs/governance.md).</summary>
    public const string WitnessDomain = "vault-governance/v2";

    public static byte[] For(string vaultId, SignedAction action, string requestId, string targetsDigestHex) =>
        Encoding.UTF8.GetBytes($"{Domain}\n{vaultId}\n{Name(action)}\n{requestId}\n{targetsDigestHex}\n");

    /// <summary>
    /// The bytes signed when the signer also witnesses the log head they saw (position and hash, hex): the v2 text,
    /// "vault-governance/v2", the same four lines as v1, then "seen POSITION HASH". Without a head, the v1 text.
    /// </summary>
    public static byte[] For(string vaultId, SignedAction action, string requestId, string targetsDigestHex, Witness? seen) =>
        seen is null
            ? For(vaultId, action, requestId, targetsDigestHex)
            : Encoding.UTF8.GetBytes(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{WitnessDomain}\n{vaultId}\n{Name(action)}\n{requestId}\n{targetsDigestHex}\nseen {seen.Position} {seen.Head}\n"));

    /// <summary>The action as it is written in the signed text: request, approve, veto, extend-retention, place-hold.</summary>
    public static string Name(SignedAction action) => action switch
    {
        SignedAction.ExtendRetention => "extend-retention",
        SignedAction.PlaceHold => "place-hold",
        _ => action.ToString().ToLowerInvariant(),
    };

    /// <summary>SHA-256 over the distinct target ids, sorted ordinally, each followed by a newline; lower-case hex.</summary>
    public static string TargetsDigest(IEnumerable<string> targets)
    {
        var text = string.Concat(targets.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Select(t => t + "\n"));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }
}

/// <summary>The log head a signer saw when signing: a position and the hash of the record there (lower-case hex).</summary>
public sealed record Witness(long Position, string Head)
{
    public static Witness? From(long? position, string? head) => position is { } p && head is { } h ? new Witness(p, h) : null;
}
