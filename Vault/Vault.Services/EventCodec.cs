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
        [RequestOpened.EventType] = typeof(RequestOpened),
        [RequestApproved.EventType] = typeof(RequestApproved),
        [RequestQuorumReached.EventType] = typeof(RequestQuorumReached),
        [RequestVetoed.EventType] = typeof(RequestVetoed),
        [RequestExpired.EventType] = typeof(RequestExpired),
        [RequestExecuted.EventType] = typeof(RequestExecuted),
        [RequestAttemptRefused.EventType] = typeof(RequestAttemptRefused),
        [SetOpened.EventType] = typeof(SetOpened),
        [SegmentStored.EventType] = typeof(SegmentStored),
        [SetSealed.EventType] = typeof(SetSealed),
        [RetentionExtended.EventType] = typeof(RetentionExtended),
        [LegalHoldPlaced.EventType] = typeof(LegalHoldPlaced),
        [LegalHoldReleased.EventType] = typeof(LegalHoldReleased),
        [GovernanceChanged.EventType] = typeof(GovernanceChanged),
        [Vault.Core.Checkpoints.CheckpointRecorded.EventType] = typeof(Vault.Core.Checkpoints.CheckpointRecorded),
    };

    /// <summary>
    /// The names the first logs were written with (every protected request was "Deletion*", whatever its kind; the
    /// execution's segments were "segmentsRemoved"). Still read, never written (docs/log-format.md).
    /// </summary>
    private static readonly Dictionary<string, Type> Legacy = new(StringComparer.Ordinal)
    {
        ["DeletionRequested.v1"] = typeof(RequestOpened),
        ["DeletionApproved.v1"] = typeof(RequestApproved),
        ["DeletionQuorumReached.v1"] = typeof(RequestQuorumReached),
        ["DeletionVetoed.v1"] = typeof(RequestVetoed),
        ["DeletionExpired.v1"] = typeof(RequestExpired),
        ["DeletionExecuted.v1"] = typeof(LegacyDeletionExecuted),
        ["DeletionAttemptRefused.v1"] = typeof(RequestAttemptRefused),
    };

    private sealed record LegacyDeletionExecuted(string RequestId, IReadOnlyList<string> Targets, IReadOnlyList<string> SegmentsRemoved, DateTimeOffset At);

    /// <summary>The type names written today and the events they carry (docs/log-format.md lists each).</summary>
    public static IReadOnlyDictionary<string, Type> Current => Types;

    /// <summary>Every event type name this codec reads, current and legacy.</summary>
    public static IEnumerable<string> KnownTypes => Types.Keys.Concat(Legacy.Keys);

    /// <summary>Is this one of the vault's own event types (rotation's are known to the rotation journal)?</summary>
    public static bool IsKnown(string eventType) => Types.ContainsKey(eventType) || Legacy.ContainsKey(eventType);

    private static readonly Dictionary<Type, string> Names = Types.ToDictionary(p => p.Value, p => p.Key);

    private static Type? TypeOf(string eventType) => Types.TryGetValue(eventType, out var type) || Legacy.TryGetValue(eventType, out type) ? type : null;

    private static object? Deserialize(EventRecord record, Type type) =>
        JsonSerializer.Deserialize(record.Payload, type, Json) is var e && e is LegacyDeletionExecuted old
            ? new RequestExecuted(old.RequestId, old.Targets, old.SegmentsRemoved, old.At)
            : e;

    public static EventData Encode(object e, string actor) =>
        new(Names[e.GetType()], JsonSerializer.SerializeToUtf8Bytes(e, e.GetType(), Json), JsonSerializer.SerializeToUtf8Bytes(new { actor }, Json));

    /// <summary>The record's event, null for a type this codec does not know; a payload that does not parse is a corrupt log.</summary>
    public static object? Decode(EventRecord record)
    {
        if (TypeOf(record.EventType) is not { } type)
            return null;
        try
        {
            return Deserialize(record, type) ?? throw new JsonException("the payload is null");
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
        if (TypeOf(record.EventType) is not { } type)
            return (null, null);
        try
        {
            return Deserialize(record, type) is { } e ? (e, null) : (null, "the payload is null");
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or ArgumentException or FormatException or InvalidOperationException)
        {
            return (null, ex.Message);
        }
    }
}
