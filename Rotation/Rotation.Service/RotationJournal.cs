using System.Text.Json;
using System.Text.Json.Serialization;
using Rotation.Core;
using Vault.Core.Errors;
using Vault.Core.Log;
using Vault.Storage;

namespace Rotation.Service;

/// <summary>
/// The rotation's events on stream "rotation" of the vault's log: read them (up to a date, for replay), and append
/// them one by one under the stream version last seen, so two runs at once cannot interleave.
/// </summary>
public sealed class RotationJournal
{
    public const string Stream = "rotation";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private static readonly Dictionary<string, Type> Types = new(StringComparer.Ordinal)
    {
        [RotationConfigured.EventType] = typeof(RotationConfigured),
        [MediumLabeled.EventType] = typeof(MediumLabeled),
        [MediumLoaded.EventType] = typeof(MediumLoaded),
        [MediaWritten.EventType] = typeof(MediaWritten),
        [MediumShipped.EventType] = typeof(MediumShipped),
        [MediumReceived.EventType] = typeof(MediumReceived),
        [MediumExpired.EventType] = typeof(MediumExpired),
        [MediumRecycled.EventType] = typeof(MediumRecycled),
        [MediumRetired.EventType] = typeof(MediumRetired),
        [MediumLost.EventType] = typeof(MediumLost),
        [DrillRecorded.EventType] = typeof(DrillRecorded),
    };

    private static readonly Dictionary<Type, string> Names = Types.ToDictionary(p => p.Value, p => p.Key);

    /// <summary>The rotation's event type names, for verification of the whole log.</summary>
    public static IReadOnlySet<string> EventTypes { get; } = Types.Keys.ToHashSet(StringComparer.Ordinal);
    private readonly IEventLog _log;
    private readonly string _actor;

    private RotationJournal(IEventLog log, string actor, RotationState state, long version)
    {
        _log = log;
        _actor = actor;
        State = state;
        Version = version;
    }

    public RotationState State { get; }
    public long Version { get; private set; }

    /// <summary>The rotation as of the end of <paramref name="upTo"/> (everything when null).</summary>
    public static async Task<RotationJournal> LoadAsync(IEventLog log, string actor, DateOnly? upTo, CancellationToken ct)
    {
        var state = new RotationState();
        var version = -1L;
        await foreach (var record in log.ReadStreamAsync(Stream, 0, ct))
        {
            version = record.StreamVersion;
            if (Decode(record) is { } e && (upTo is null || e.Date <= upTo))
                state.Apply(e);
        }

        return new RotationJournal(log, actor, state, version);
    }

    public static IRotationEvent? Decode(EventRecord record) =>
        Types.TryGetValue(record.EventType, out var type) ? (IRotationEvent?)JsonSerializer.Deserialize(record.Payload, type, Json) : null;

    public static EventData Encode(IRotationEvent e, string actor) =>
        new(Names[e.GetType()], JsonSerializer.SerializeToUtf8Bytes(e, e.GetType(), Json), JsonSerializer.SerializeToUtf8Bytes(new { actor }, Json));

    /// <summary>Appends one event (the caller applies it to <see cref="State"/>).</summary>
    public async Task AppendAsync(IRotationEvent e, CancellationToken ct)
    {
        try
        {
            await _log.AppendAsync(Stream, Version < 0 ? ExpectedVersion.NoStream : ExpectedVersion.Exactly(Version), [Encode(e, _actor)], ct);
        }
        catch (WrongExpectedVersionException ex)
        {
            throw new StorageRefusedException("Another rotation command changed the media while this one ran; nothing of this step was recorded. Run it again.", ex);
        }

        Version++;
    }

    /// <summary>Appends and applies.</summary>
    public async Task RecordAsync(IRotationEvent e, CancellationToken ct)
    {
        await AppendAsync(e, ct);
        State.Apply(e);
    }
}
