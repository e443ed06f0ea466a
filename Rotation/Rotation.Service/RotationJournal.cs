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
        var fold = new Fold(new RotationState(), -1, [], [], null);
        await fold.ContinueAsync(log, upTo, ct);
        return new RotationJournal(log, actor, fold.State, fold.Version, fold.Findings);
    }

    /// <summary>The name of the rotation's cached fold beside the read models.</summary>
    public const string SnapshotName = "rotation";

    /// <summary>
    /// The rotation as of now, for showing it ('rotation plan', 'media list'): from the fold cached beside the read
    /// models when the log still holds the record it ends at with the same hash, continued with the rotation records
    /// after it under the same guard and proofs as <see cref="LoadAsync"/>; the cache is then moved to the head. Without
    /// a usable cache this is <see cref="LoadAsync"/>. Nothing that erases, writes or ships reads it: those replay.
    /// </summary>
    public static async Task<RotationJournal> LoadForShowingAsync(IEventLog log, string actor, CancellationToken ct)
    {
        await using var store = await Vault.Services.ReadModels.ReadModelAccess.OpenStoreAsync(log, ct);
        if (store is null)
            return await LoadAsync(log, actor, null, ct);
        // The cache only saves time: a store that cannot be read or written (a role without rights on the read-model
        // schema, a read-only copy of the vault) means a replay, never a failed command.
        Fold? cachedFold;
        try
        {
            cachedFold = await CachedAsync(log, store, ct);
        }
        catch (Exception ex) when (ex is VaultException or System.Data.Common.DbException)
        {
            cachedFold = null;
        }

        var fold = cachedFold ?? new Fold(new RotationState(), -1, [], [], null);
        var from = fold.Last;
        await fold.ContinueAsync(log, null, ct);
        if (fold.Last is { } last && (from is null || last.Position != from.Position))
        {
            var document = new Cached(CacheFormat, fold.Version, fold.State.ToSnapshot(), [.. fold.Used], [.. fold.Findings]);
            try
            {
                await store.WriteSnapshotAsync(SnapshotName, new Vault.Storage.ReadModels.ReadModelSnapshot(last.Position, last.Hash, JsonSerializer.Serialize(document, RotationStateSnapshot.Json)), ct);
            }
            catch (Exception ex) when (ex is VaultException or System.Data.Common.DbException)
            {
                // shown from the replay just made; the next command tries again
            }
        }

        return new RotationJournal(log, actor, fold.State, fold.Version, fold.Findings);
    }

    /// <summary>
    /// Where the cached fold ('media list', 'rotation plan'), brought to the head, differs from a replay of the rotation
    /// stream: one sentence per medium that differs, and one when anything else does; none when they agree.
    /// </summary>
    public static async Task<IReadOnlyList<string>> VerifyCacheAsync(IEventLog log, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            var shown = await LoadForShowingAsync(log, "verify", ct);
            var replay = await LoadAsync(log, "verify", null, ct);
            if (shown.Version != replay.Version && attempt < 3)
                continue; // a rotation command appended between the two
            var differences = new List<string>();
            foreach (var label in shown.State.Media.Keys.Union(replay.State.Media.Keys).Order(StringComparer.Ordinal))
            {
                var cached = JsonSerializer.Serialize(shown.State.Media.GetValueOrDefault(label), RotationStateSnapshot.Json);
                var replayed = JsonSerializer.Serialize(replay.State.Media.GetValueOrDefault(label), RotationStateSnapshot.Json);
                if (cached != replayed)
                    differences.Add($"medium {label}: the rotation's cached media inventory says {cached}, a replay of the rotation stream {replayed}");
            }

            if (differences.Count == 0 && JsonSerializer.Serialize(shown.State.ToSnapshot(), RotationStateSnapshot.Json) != JsonSerializer.Serialize(replay.State.ToSnapshot(), RotationStateSnapshot.Json))
                differences.Add("the rotation's cached fold (copies, chain, sets written) differs from a replay of the rotation stream");
            return differences;
        }
    }

    private const int CacheFormat = 1;

    private sealed record Cached(int Format, long Version, RotationStateSnapshot State, List<string> Used, List<ProofFinding> Findings);

    /// <summary>The cached fold, when it is of this format and the log holds its last record, a rotation record at its version, with its hash.</summary>
    private static async Task<Fold?> CachedAsync(IEventLog log, Vault.Storage.ReadModels.IReadModelStore store, CancellationToken ct)
    {
        if (await store.ReadSnapshotAsync(SnapshotName, ct) is not { } snapshot)
            return null;
        Cached? cached;
        try
        {
            cached = JsonSerializer.Deserialize<Cached>(snapshot.Content, RotationStateSnapshot.Json);
        }
        catch (JsonException)
        {
            return null;
        }

        if (cached is null || cached.Format != CacheFormat)
            return null;
        await foreach (var record in log.ReadAllAsync(snapshot.Position, ct))
        {
            if (record.Position != snapshot.Position || record.StreamId != Stream || record.StreamVersion != cached.Version || !record.Hash.AsSpan().SequenceEqual(snapshot.Hash))
                return null;
            return new Fold(RotationState.FromSnapshot(cached.State), cached.Version, [.. cached.Findings], new HashSet<string>(cached.Used, StringComparer.Ordinal), record);
        }

        return null;
    }

    /// <summary>The fold of the rotation stream so far, and what continuing it needs.</summary>
    private sealed class Fold(RotationState state, long version, List<ProofFinding> findings, HashSet<string> used, EventRecord? last)
    {
        public RotationState State { get; } = state;
        public long Version { get; private set; } = version;
        public List<ProofFinding> Findings { get; } = findings;
        public HashSet<string> Used { get; } = used;
        public EventRecord? Last { get; private set; } = last;

        /// <summary>
        /// Applies the rotation records after <see cref="Version"/> (up to the end of <paramref name="upTo"/>). A record
        /// the guard stops is applied only when the request it names is a signed rotation request for exactly that
        /// change, re-proved from the records before it and allowed to execute at its time, and used by no earlier record.
        /// </summary>
        public async Task ContinueAsync(IEventLog log, DateOnly? upTo, CancellationToken ct)
        {
            var records = new List<EventRecord>();
            await foreach (var record in log.ReadStreamAsync(Stream, Version + 1, ct))
                records.Add(record);
            GovernanceState? governance = null;
            foreach (var record in records)
            {
                Version = record.StreamVersion;
                Last = record;
                if (Decode(record) is not { } e || (upTo is not null && e.Date > upTo))
                    continue;
                if (RotationGuard.Check(State, e, DateOnly.FromDateTime(record.RecordedAt.UtcDateTime)) is { } guarded)
                {
                    var requestId = RotationGuard.RequestIdOf(e);
                    var problem = guarded.Target is null ? "no request can allow that"
                        : requestId is null ? "it names no approved request"
                        : Used.Contains(requestId) ? $"request {requestId} was already used by an earlier record"
                        : await ProveAsync(log, governance ??= await GovernanceReader.ReadStateAsync(log, null, ct), record, e, requestId, guarded.Target, ct);
                    if (problem is not null)
                    {
                        Findings.Add(new ProofFinding(record.Position, "rotation", $"{guarded.Why} without the quorum: {problem}; the record is not applied"));
                        continue;
                    }

                    Used.Add(requestId!);
                }

                State.Apply(e);
            }
        }
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
