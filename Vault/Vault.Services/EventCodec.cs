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
        [Vault.Core.Checkpoints.CheckpointRecorded.EventType] = typeof(Vault.Core.Checkpoints.CheckpointRecorded),
    };

    /// <summary>Is this one of the vault's own event types (rotation's are known to the rotation journal)?</summary>
    public static bool IsKnown(string eventType) => Types.ContainsKey(eventType);

    private static readonly Dictionary<Type, string> Names = Types.ToDictionary(p => p.Value, p => p.Key);

    public static EventData Encode(object e, string actor) =>
        new(Names[e.GetType()], JsonSerializer.SerializeToUtf8Bytes(e, e.GetType(), Json), JsonSerializer.SerializeToUtf8Bytes(new { actor }, Json));

    /// <summary>The record's event, null for a type this codec does not know; a payload that does not parse is a corrupt log.</summary>
    public static object? Decode(EventRecord record)
    {
        if (!Types.TryGetValue(record.EventType, out var type))
            return null;
        try
        {
            return JsonSerializer.Deserialize(record.Payload, type, Json) ?? throw new JsonException("the payload is null");
        }
        catch (JsonException ex)
        {
            throw new Vault.Core.Errors.StorageCorruptException(
                $"The record at position {record.Position} ({record.EventType} on stream '{record.StreamId}') does not parse ({ex.Message}); the log was written behind the vault's back. Run 'vault log verify'.", ex);
        }
    }

    /// <summary>Decodes without throwing: the event, or null and why it does not parse.</summary>
    public static (object? Event, string? Problem) TryDecode(EventRecord record)
    {
        if (!Types.TryGetValue(record.EventType, out var type))
            return (null, null);
        try
        {
            return JsonSerializer.Deserialize(record.Payload, type, Json) is { } e ? (e, null) : (null, "the payload is null");
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or ArgumentException or FormatException or InvalidOperationException)
        {
            return (null, ex.Message);
        }
    }
}
