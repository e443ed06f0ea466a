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

    /// <summary>Rebuilds and re-validates the rules; a document that breaks them throws ArgumentException.</summary>
    public GovernanceRules ToRules() => new(
        [.. Approvers.Select(a => new Approver(a.Id, Convert.FromHexString(a.PublicKey)))],
        Quorum, TimeSpan.FromSeconds(CoolingOffSeconds), TimeSpan.FromSeconds(RequestExpirySeconds), TimeSpan.FromSeconds(MinimumRetentionSeconds));
}

public sealed record ApproverDocument(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("publicKey")] string PublicKey);
