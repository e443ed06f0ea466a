using System.Text.Json;
using System.Text.Json.Serialization;
using Rotation.Core;
using Vault.Core.Errors;
using Vault.Core.Governance;
using Vault.Core.Log;
using Vault.Services;
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

    /// <summary>The rotation's type names and the events they carry (docs/log-format.md lists each).</summary>
    public static IReadOnlyDictionary<string, Type> Current => Types;

    /// <summary>The rotation's event type names, for verification of the whole log.</summary>
    public static IReadOnlySet<string> EventTypes { get; } = Types.Keys.ToHashSet(StringComparer.Ordinal);
    private readonly IEventLog _log;
    private readonly string _actor;

    private RotationJournal(IEventLog log, string actor, RotationState state, long version, IReadOnlyList<ProofFinding> findings)
    {
        _log = log;
        _actor = actor;
        State = state;
        Version = version;
        Findings = findings;
    }

    public RotationState State { get; }
    public long Version { get; private set; }

    /// <summary>
    /// Rotation records that loosen protection without a re-proved approval (<see cref="RotationGuard"/>): written
    /// behind the vault's back. They are not applied; 'vault log verify' and 'rotation run' name them.
    /// </summary>
    public IReadOnlyList<ProofFinding> Findings { get; }

    /// <summary>
    /// The rotation as of the end of <paramref name="upTo"/> (everything when null). A record the guard stops is
    /// applied only when the request it names is a signed rotation request for exactly that change, re-proved from
    /// the records before it and allowed to execute at its time, and used by no earlier record.
    /// </summary>
    public static async Task<RotationJournal> LoadAsync(IEventLog log, string actor, DateOnly? upTo, CancellationToken ct)
    {
        var records = new List<EventRecord>();
        await foreach (var record in log.ReadStreamAsync(Stream, 0, ct))
            records.Add(record);
        var state = new RotationState();
        var version = records.Count > 0 ? records[^1].StreamVersion : -1L;
        var findings = new List<ProofFinding>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        GovernanceState? governance = null;
        foreach (var record in records)
        {
            if (Decode(record) is not { } e || (upTo is not null && e.Date > upTo))
                continue;
            if (RotationGuard.Check(state, e, DateOnly.FromDateTime(record.RecordedAt.UtcDateTime)) is { } guarded)
            {
                var requestId = RotationGuard.RequestIdOf(e);
                var problem = guarded.Target is null ? "no request can allow that"
                    : requestId is null ? "it names no approved request"
                    : used.Contains(requestId) ? $"request {requestId} was already used by an earlier record"
                    : await ProveAsync(log, governance ??= await GovernanceReader.ReadStateAsync(log, null, ct), record, e, requestId, guarded.Target, ct);
                if (problem is not null)
                {
                    findings.Add(new ProofFinding(record.Position, "rotation", $"{guarded.Why} without the quorum: {problem}; the record is not applied"));
                    continue;
                }

                used.Add(requestId!);
            }

            state.Apply(e);
        }

        return new RotationJournal(log, actor, state, version, findings);
    }

    /// <summary>Would the request have allowed this record at its position and time? Null when yes.</summary>
    private static async Task<string?> ProveAsync(IEventLog log, GovernanceState governance, EventRecord at, IRotationEvent e, string requestId, string target, CancellationToken ct)
    {
        if (!DeletionService.IsValidId(requestId))
            return $"it names no valid request ('{requestId}')";
        var request = await GovernanceReader.RequestBeforeAsync(log, governance, requestId, at.Position, ct);
        if (request.Kind != RequestKind.Rotation || request.Targets.Count != 1)
            return $"request {requestId} is not a signed rotation request";
        if (e is RotationConfigured configured ? !SamePolicy(request.Subject, configured.Policy) : request.Targets[0] != target)
            return $"request {requestId} approved {request.Targets[0]}, not this";
        if (DeletionDecider.MayExecute(request, "replay", governance.ContextAt(at.Position, at.RecordedAt))?.Refusal is { } refusal)
            return $"request {requestId} could not execute then ({refusal.Code}: {refusal.Reason})";
        return null;
    }

    private static bool SamePolicy(string? subject, RotationPolicy policy)
    {
        try
        {
            return subject is not null && RotationPolicy.Parse(subject, "request").ToJson() == policy.ToJson();
        }
        catch (Exception ex) when (ex is VaultException or JsonException)
        {
            return false;
        }
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
