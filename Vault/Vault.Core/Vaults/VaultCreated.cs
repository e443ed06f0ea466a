using System.Text.Json;
using System.Text.Json.Serialization;
using Vault.Core.Governance;
using Vault.Core.Log;

namespace Vault.Core.Vaults;

/// <summary>Genesis: the first record of every vault's log, on stream <see cref="VaultStreams.Vault"/>; it names the approvers and the deletion rules.</summary>
public sealed record VaultCreated(
    [property: JsonPropertyName("vaultId")] string VaultId,
    [property: JsonPropertyName("formatVersion")] int FormatVersion,
    [property: JsonPropertyName("createdAt")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("governance")] GovernanceDocument Governance,
    [property: JsonPropertyName("checkpointKey"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? CheckpointKey = null)
{
    public const string EventType = "VaultCreated.v1";

    public EventData ToEventData(string actor) =>
        new(EventType, JsonSerializer.SerializeToUtf8Bytes(this), JsonSerializer.SerializeToUtf8Bytes(new { actor }));

    public static VaultCreated? From(EventRecord record) =>
        record.EventType == EventType ? JsonSerializer.Deserialize<VaultCreated>(record.Payload) : null;
}

public static class VaultStreams
{
    /// <summary>The vault's own stream: genesis and, later, governance.</summary>
    public const string Vault = "vault";
}
