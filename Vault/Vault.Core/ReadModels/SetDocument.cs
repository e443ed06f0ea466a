using System.Collections.Immutable;
using System.Text.Json;
using Vault.Core.Governance;
using Vault.Core.Sets;

namespace Vault.Core.ReadModels;

/// <summary>
/// One set as the sets read model keeps it: the state a full replay of the log gives (<see cref="BackupSetState"/>),
/// the segments its push recorded and the bytes those added to the store, and the log position of its last change.
/// Written once here and bound to every read-model store (docs/read-models.md).
/// </summary>
public sealed record SetDocument(BackupSetState State, long SegmentsRecorded, long StoredBytes, long OpenedAt, long ChangedAt)
{
    public string SetId => State.Opened!.SetId;

    /// <summary>
    /// The projection: the document after one event at <paramref name="position"/>, or null when the event does not
    /// touch the sets read model. A deletion (<see cref="RequestExecuted"/>) and a hold release must already be proved
    /// from their signatures by the caller; this function only folds.
    /// </summary>
    public static SetDocument? Apply(SetDocument? document, long position, object e) => (document, e) switch
    {
        (null, SetOpened o) => new SetDocument(BackupSetState.Empty.Apply(o), 0, 0, position, position),
        (null, _) => null, // an event for a set that was never opened changes nothing, as in a replay
        ({ } d, SegmentStored s) => d with { SegmentsRecorded = d.SegmentsRecorded + 1, StoredBytes = d.StoredBytes + s.StoredBytes, ChangedAt = position },
        ({ } d, SetOpened or SetSealed or RetentionExtended or LegalHoldPlaced or LegalHoldReleased or RequestExecuted) =>
            d.State.Apply(e) is var next && !ReferenceEquals(next, d.State) ? d with { State = next, ChangedAt = position } : d,
        _ => document,
    };

    /// <summary>The id of the set an event belongs to, when it is one the sets read model folds.</summary>
    public static string? SetOf(object e) => e switch
    {
        SetOpened o => o.SetId,
        SetSealed s => s.SetId,
        SegmentStored s => s.SetId,
        RetentionExtended r => r.SetId,
        LegalHoldPlaced h => h.SetId,
        LegalHoldReleased h => h.SetId,
        _ => null,
    };

    /// <summary>The JSON settings of the row's JSON columns (labels, holds).</summary>
    public static JsonSerializerOptions RowJsonOptions => RowJson.Options;

    /// <summary>The ids of the holds in a row's holds column, in the order kept.</summary>
    public static IReadOnlyList<string> HoldIds(string? holdsJson) =>
        holdsJson is null ? [] : [.. (JsonSerializer.Deserialize<LegalHoldPlaced[]>(holdsJson, RowJson.Options) ?? []).Select(h => h.HoldId)];

    /// <summary>The document as flat columns, for a table.</summary>
    public SetRow ToRow()
    {
        var s = State;
        return new SetRow(
            SetId, (int)s.Status, s.Opened!.Source, s.Opened.Name, s.Opened.Kind,
            JsonSerializer.Serialize(s.Opened.Labels, RowJson.Options), s.Opened.At, s.Sealed?.ManifestHash, s.Sealed?.ManifestLength ?? 0, s.Sealed?.SegmentCount ?? 0, s.Sealed?.FileCount ?? 0,
            s.Sealed?.TotalBytes ?? 0, s.Sealed?.RetainUntil, s.Sealed?.At, s.RetainUntil,
            s.Holds.Count == 0 ? null : JsonSerializer.Serialize(s.Holds.Values, RowJson.Options), s.DeletedBy,
            SegmentsRecorded, StoredBytes, OpenedAt, ChangedAt);
    }

    /// <summary>The document back from its columns: the same state, field for field.</summary>
    public static SetDocument FromRow(SetRow r)
    {
        IReadOnlyDictionary<string, string> labels = r.LabelsJson == "{}" ? new Dictionary<string, string>() : new LazyLabels(r.LabelsJson);
        var opened = new SetOpened(r.SetId, r.Source, r.Name, r.Kind, labels, r.OpenedTime);
        var sealedEvent = r.SealedTime is { } at
            ? new SetSealed(r.SetId, r.ManifestHash!, r.ManifestLength, r.SegmentCount, r.FileCount, r.TotalBytes, r.SealedRetainUntil!.Value, at)
            : null;
        var holds = ImmutableSortedDictionary.Create<string, LegalHoldPlaced>(StringComparer.Ordinal);
        if (r.HoldsJson is { } json)
            holds = holds.AddRange((JsonSerializer.Deserialize<LegalHoldPlaced[]>(json, RowJson.Options) ?? []).Select(h => KeyValuePair.Create(h.HoldId, h)));
        var state = new BackupSetState
        {
            Status = (SetStatus)r.Status, Opened = opened, Sealed = sealedEvent, DeletedBy = r.DeletedBy,
            RetainUntil = r.RetainUntil, Holds = holds,
        };
        return new SetDocument(state, r.SegmentsRecorded, r.StoredBytes, r.OpenedAt, r.ChangedAt);
    }
}

/// <summary>A <see cref="SetDocument"/> as columns. Times are kept exactly (ticks and offset are UTC in the log).</summary>
public sealed record SetRow(
    string SetId, int Status, string Source, string Name, string Kind, string LabelsJson, DateTimeOffset OpenedTime,
    string? ManifestHash, long ManifestLength, long SegmentCount, long FileCount, long TotalBytes, DateTimeOffset? SealedRetainUntil,
    DateTimeOffset? SealedTime, DateTimeOffset RetainUntil, string? HoldsJson, string? DeletedBy,
    long SegmentsRecorded, long StoredBytes, long OpenedAt, long ChangedAt);

/// <summary>A set's labels as stored, parsed on first use: listing 100,000 sets reads none of them.</summary>
internal sealed class LazyLabels(string json) : IReadOnlyDictionary<string, string>
{
    private Dictionary<string, string>? _parsed;

    private Dictionary<string, string> Parsed => _parsed ??= JsonSerializer.Deserialize<Dictionary<string, string>>(json, RowJson.Options) ?? [];

    public string this[string key] => Parsed[key];

    public IEnumerable<string> Keys => Parsed.Keys;

    public IEnumerable<string> Values => Parsed.Values;

    public int Count => Parsed.Count;

    public bool ContainsKey(string key) => Parsed.ContainsKey(key);

    public bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out string value) => Parsed.TryGetValue(key, out value);

    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => Parsed.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

internal static class RowJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);
}
