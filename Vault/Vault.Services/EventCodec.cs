using System.Text.Json;
using System.Text.Json.Serialization;
using Vault.Core.Governance;
using Vault.Core.Log;
using Vault.Core.Sets;

namespace Vault.Services;

/// <summary>The vault's events to and from the log: stable, versioned type names and camelCase JSON payloads.</summary>
public static class EventCodec
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private static readonly Dictionary<string, Type> Types = new(StringComparer.Ordinal)
    {
        [DeletionRequested.EventType] = typeof(DeletionRequested),
        [DeletionApproved.EventType] = typeof(DeletionApproved),
        [DeletionQuorumReached.EventType] = typeof(DeletionQuorumReached),
        [DeletionVetoed.EventType] = typeof(DeletionVetoed),
        [DeletionExpired.EventType] = typeof(DeletionExpired),
        [DeletionExecuted.EventType] = typeof(DeletionExecuted),
        [DeletionAttemptRefused.EventType] = typeof(DeletionAttemptRefused),
        [SetOpened.EventType] = typeof(SetOpened),
        [SegmentStored.EventType] = typeof(SegmentStored),
        [SetSealed.EventType] = typeof(SetSealed),
        [RetentionExtended.EventType] = typeof(RetentionExtended),
        [LegalHoldPlaced.EventType] = typeof(LegalHoldPlaced),
        [LegalHoldReleased.EventType] = typeof(LegalHoldReleased),
        [GovernanceChanged.EventType] = typeof(GovernanceChanged),
    };

    private static readonly Dictionary<Type, string> Names = Types.ToDictionary(p => p.Value, p => p.Key);

    public static EventData Encode(object e, string actor) =>
        new(Names[e.GetType()], JsonSerializer.SerializeToUtf8Bytes(e, e.GetType(), Json), JsonSerializer.SerializeToUtf8Bytes(new { actor }, Json));

    public static object? Decode(EventRecord record) =>
        Types.TryGetValue(record.EventType, out var type) ? JsonSerializer.Deserialize(record.Payload, type, Json) : null;
}
