using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;

namespace Vault.Core.Governance;

/// <summary>The governance rules as they are stored in events (genesis, later changes): plain values, keys as hex.</summary>
public sealed record GovernanceDocument(
    [property: JsonPropertyName("approvers")] IReadOnlyList<ApproverDocument> Approvers,
    [property: JsonPropertyName("quorum")] int Quorum,
    [property: JsonPropertyName("coolingOffSeconds")] long CoolingOffSeconds,
    [property: JsonPropertyName("requestExpirySeconds")] long RequestExpirySeconds,
    [property: JsonPropertyName("minimumRetentionSeconds")] long MinimumRetentionSeconds)
{
    public static GovernanceDocument From(GovernanceRules rules) => new(
        [.. rules.Approvers.Select(a => new ApproverDocument(a.Id.Value, a.PublicKeyHex))],
        rules.Quorum, (long)rules.CoolingOff.TotalSeconds, (long)rules.RequestExpiry.TotalSeconds, (long)rules.MinimumRetention.TotalSeconds);

    /// <summary>
    /// SHA-256 (lower-case hex) of the canonical text of these rules: one line per approver "approver ID KEYHEX" in
    /// ordinal id order, then "quorum M", "cooling-off-seconds D", "request-expiry-seconds E", "minimum-retention-seconds R".
    /// A proposal's signatures cover this digest, so they cannot be reused for other rules.
    /// </summary>
    public string Digest()
    {
        var text = new StringBuilder();
        foreach (var a in Approvers.OrderBy(a => a.Id, StringComparer.Ordinal))
            text.Append("approver ").Append(a.Id).Append(' ').Append(a.PublicKey.ToLowerInvariant()).Append('\n');
        text.Append(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"quorum {Quorum}\ncooling-off-seconds {CoolingOffSeconds}\nrequest-expiry-seconds {RequestExpirySeconds}\nminimum-retention-seconds {MinimumRetentionSeconds}\n"));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>Rebuilds and re-validates the rules; a document that breaks them throws ArgumentException.</summary>
    public GovernanceRules ToRules() => new(
        [.. Approvers.Select(a => new Approver(a.Id, Convert.FromHexString(a.PublicKey)))],
        Quorum, TimeSpan.FromSeconds(CoolingOffSeconds), TimeSpan.FromSeconds(RequestExpirySeconds), TimeSpan.FromSeconds(MinimumRetentionSeconds));
}

public sealed record ApproverDocument(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("publicKey")] string PublicKey);
