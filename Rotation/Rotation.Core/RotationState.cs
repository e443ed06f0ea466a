namespace Rotation.Core;

public enum MediumState
{
    Scratch,
    Writing,
    Full,
    InTransit,
    Vaulted,
    Expired,
    Recycled,
    Retired,
    Lost,
}

/// <summary>One medium as the log has it now.</summary>
public sealed class MediumInfo
{
    public required string Label { get; init; }
    public required string Pool { get; init; }
    public required long Capacity { get; init; }
    public required int MaxPasses { get; init; }
    public DateOnly LabeledOn { get; init; }
    public int Wear { get; set; }
    public MediumState State { get; set; }

    /// <summary>Where it is; null while in transit or lost.</summary>
    public string? Site { get; set; }
    public string? Destination { get; set; }

    /// <summary>Where a medium in transit left from.</summary>
    public string? From { get; set; }
    public DateOnly? ArrivesBy { get; set; }
    public string? WriteId { get; set; }
    public int SpanIndex { get; set; }
    public long Bytes { get; set; }
    public DateOnly? WrittenOn { get; set; }
    public DateOnly? RetainUntil { get; set; }

    /// <summary>The later of its own retention and that of every copy (an incremental) that needs it.</summary>
    public DateOnly? NeededUntil { get; set; }
    public bool IsExpired { get; set; }
    public string? ImageSha256 { get; set; }
    public IReadOnlyList<string> Sets { get; set; } = [];

    /// <summary>Does it still hold data that can be read (written, not erased, retired or lost)?</summary>
    public bool HoldsData => WriteId is not null && State is MediumState.Full or MediumState.InTransit or MediumState.Vaulted or MediumState.Expired;

    public bool IsBlank => State is MediumState.Scratch or MediumState.Recycled;
}

/// <summary>A <see cref="RotationState"/> as a document (<see cref="RotationState.ToSnapshot"/>); a pool's sets are indexes into <see cref="WrittenAnywhere"/>.</summary>
public sealed record RotationStateSnapshot(
    RotationPolicy? Policy,
    IReadOnlyList<MediumInfo> Media,
    IReadOnlyList<MediaWritten> Writes,
    IReadOnlyList<string> SinceFull,
    Dictionary<string, int> NextNumber,
    Dictionary<string, DateOnly> LastFullBySource,
    Dictionary<string, List<int>> WrittenByPool,
    IReadOnlyList<string> WrittenAnywhere,
    IReadOnlyList<DrillRecorded> Drills,
    int EventCount,
    DateOnly? LastDate)
{
    /// <summary>The rotation records' own JSON settings (web names, enums by name).</summary>
    public static readonly System.Text.Json.JsonSerializerOptions Json = new(System.Text.Json.JsonSerializerDefaults.Web) { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    public byte[] ToUtf8() => System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(this, Json);

    public static RotationStateSnapshot Parse(ReadOnlySpan<byte> utf8) =>
        System.Text.Json.JsonSerializer.Deserialize<RotationStateSnapshot>(utf8, Json) ?? throw new System.Text.Json.JsonException("an empty snapshot");
}

/// <summary>
/// The rotation's state, folded from its events in log order: media, writes, the copies of each set, and the
/// incremental chain (which medium holds each segment written since the last full).
/// </summary>
public sealed class RotationState
{
    private readonly Dictionary<string, int> _nextNumber = new(StringComparer.Ordinal);

    public RotationPolicy? Policy { get; private set; }
    public Dictionary<string, MediumInfo> Media { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, MediaWritten> Writes { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, List<(SetCopy Copy, MediaWritten Write)>> Copies { get; } = new(StringComparer.Ordinal);

    private readonly List<MediaWritten> _sinceFull = [];
    private Dictionary<string, MediumRef>? _chain;

    /// <summary>
    /// Segments written since the last full, and where: an incremental writes only what is not here. Built when first
    /// asked for after a write (replaying a long log then costs nothing per write).
    /// </summary>
    public IReadOnlyDictionary<string, MediumRef> Chain
    {
        get
        {
            if (_chain is null)
            {
                _chain = new Dictionary<string, MediumRef>(StringComparer.Ordinal);
                foreach (var write in _sinceFull)
                {
                    foreach (var placement in write.Segments)
                        _chain[placement.Hash] = new MediumRef(placement.Label, write.WriteId);
                }
            }

            return _chain;
        }
    }
    public Dictionary<string, DateOnly> LastFullBySource { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, HashSet<string>> WrittenByPool { get; } = new(StringComparer.Ordinal);
    public HashSet<string> WrittenAnywhere { get; } = new(StringComparer.Ordinal);
    public List<DrillRecorded> Drills { get; } = [];
    public int EventCount { get; private set; }
    public DateOnly? LastDate { get; private set; }

    /// <summary>
    /// The fold as a document, for a cache of it (<see cref="RotationStateSnapshot"/>): everything a later record or a
    /// reader can need. A write no medium holds any more is left out with its copies (no copy of it can be restored,
    /// and every reader checks that), unless it is on the incremental chain since the last full; a write off the chain
    /// is kept without its list of segment placements (only the chain reads them).
    /// </summary>
    public RotationStateSnapshot ToSnapshot()
    {
        var held = Media.Values.Select(m => m.WriteId).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var chain = _sinceFull.Select(w => w.WriteId).ToHashSet(StringComparer.Ordinal);
        string[] anywhere = [.. WrittenAnywhere.Order(StringComparer.Ordinal)];
        var index = new Dictionary<string, int>(anywhere.Length, StringComparer.Ordinal);
        for (var i = 0; i < anywhere.Length; i++)
            index[anywhere[i]] = i;
        return new RotationStateSnapshot(
            Policy,
            [.. Media.Values],
            // Where each segment went matters only on the chain (an incremental skips what it holds): other writes are kept without it.
            [.. Writes.Values.Where(w => held.Contains(w.WriteId) || chain.Contains(w.WriteId)).Select(w => chain.Contains(w.WriteId) ? w : w with { Segments = [] })],
            [.. _sinceFull.Select(w => w.WriteId)],
            new Dictionary<string, int>(_nextNumber, StringComparer.Ordinal),
            new Dictionary<string, DateOnly>(LastFullBySource, StringComparer.Ordinal),
            WrittenByPool.ToDictionary(p => p.Key, p => p.Value.Select(id => index[id]).Order().ToList(), StringComparer.Ordinal),
            anywhere,
            [.. Drills],
            EventCount,
            LastDate);
    }

    /// <summary>The fold a <see cref="ToSnapshot"/> document describes; applying later records to it gives what a replay gives.</summary>
    public static RotationState FromSnapshot(RotationStateSnapshot snapshot)
    {
        var state = new RotationState { Policy = snapshot.Policy, EventCount = snapshot.EventCount, LastDate = snapshot.LastDate };
        foreach (var m in snapshot.Media)
            state.Media[m.Label] = m;
        foreach (var w in snapshot.Writes)
        {
            state.Writes[w.WriteId] = w;
            foreach (var copy in w.Sets)
            {
                if (!state.Copies.TryGetValue(copy.SetId, out var copies))
                    state.Copies[copy.SetId] = copies = [];
                copies.Add((copy, w));
            }
        }

        foreach (var id in snapshot.SinceFull)
            state._sinceFull.Add(state.Writes[id]);
        foreach (var (prefix, next) in snapshot.NextNumber)
            state._nextNumber[prefix] = next;
        foreach (var (source, date) in snapshot.LastFullBySource)
            state.LastFullBySource[source] = date;
        foreach (var (pool, sets) in snapshot.WrittenByPool)
            state.WrittenByPool[pool] = new HashSet<string>(sets.Select(i => snapshot.WrittenAnywhere[i]), StringComparer.Ordinal);
        state.WrittenAnywhere.UnionWith(snapshot.WrittenAnywhere);
        state.Drills.AddRange(snapshot.Drills);
        return state;
    }

    public static RotationState Fold(IEnumerable<IRotationEvent> events)
    {
        var state = new RotationState();
        foreach (var e in events)
            state.Apply(e);
        return state;
    }

    /// <summary>The next free label of a pool: prefix and five digits, e.g. W00007.</summary>
    public string NextLabel(PoolDefinition pool) => $"{pool.Prefix}{_nextNumber.GetValueOrDefault(pool.Prefix, 1):D5}";

    public void Apply(IRotationEvent e)
    {
        EventCount++;
        LastDate = e.Date;
        switch (e)
        {
            case RotationConfigured c:
                Policy = c.Policy;
                break;
            case MediumLabeled l:
                Media[l.Label] = new MediumInfo { Label = l.Label, Pool = l.Pool, Capacity = l.Capacity, MaxPasses = l.MaxPasses, LabeledOn = l.Date, State = MediumState.Scratch, Site = l.Site };
                var prefix = new string([.. l.Label.TakeWhile(char.IsAsciiLetter)]);
                if (int.TryParse(l.Label.AsSpan(prefix.Length), out var n) && n >= _nextNumber.GetValueOrDefault(prefix, 1))
                    _nextNumber[prefix] = n + 1;
                break;
            case MediumLoaded l:
                Update(l.Label, m => m.State = MediumState.Writing);
                break;
            case MediaWritten w:
                ApplyWrite(w);
                break;
            case MediumShipped s:
                Update(s.Label, m => { m.State = MediumState.InTransit; m.Site = null; m.From = s.From; m.Destination = s.To; m.ArrivesBy = s.ArrivesBy; });
                break;
            case MediumReceived r:
                Update(r.Label, m => { m.State = m.IsExpired ? MediumState.Expired : MediumState.Vaulted; m.Site = r.Site; m.From = null; m.Destination = null; m.ArrivesBy = null; });
                break;
            case MediumExpired x:
                Update(x.Label, m => { m.IsExpired = true; if (m.State is MediumState.Full or MediumState.Vaulted) m.State = MediumState.Expired; });
                break;
            case MediumRecycled r:
                Update(r.Label, m =>
                {
                    m.State = MediumState.Recycled;
                    m.WriteId = null;
                    m.Sets = [];
                    m.Bytes = 0;
                    m.IsExpired = false;
                    m.RetainUntil = m.NeededUntil = null;
                    m.ImageSha256 = null;
                });
                break;
            case MediumRetired r:
                Update(r.Label, m => m.State = MediumState.Retired);
                break;
            case MediumLost l:
                Update(l.Label, m => { m.State = MediumState.Lost; m.Site = null; m.Destination = null; });
                break;
            case DrillRecorded d:
                Drills.Add(d);
                break;
        }
    }

    private void Update(string? label, Action<MediumInfo> change)
    {
        // A record naming no medium (malformed, or written behind the vault's back) changes nothing; verify names it.
        if (label is not null && Media.TryGetValue(label, out var medium))
            change(medium);
    }

    private void ApplyWrite(MediaWritten w)
    {
        Writes[w.WriteId] = w;
        var setIds = w.Sets.Select(s => s.SetId).ToArray();
        foreach (var written in w.Media)
        {
            Update(written.Label, m =>
            {
                m.State = MediumState.Full;
                m.Site = w.Site;
                m.WriteId = w.WriteId;
                m.SpanIndex = written.SpanIndex;
                m.Bytes = written.Bytes;
                m.WrittenOn = w.Date;
                m.RetainUntil = m.NeededUntil = w.RetainUntil;
                m.IsExpired = false;
                m.ImageSha256 = written.ImageSha256;
                m.Sets = setIds;
                m.Wear++;
            });
        }

        foreach (var copy in w.Sets)
        {
            if (!Copies.TryGetValue(copy.SetId, out var copies))
                Copies[copy.SetId] = copies = [];
            copies.Add((copy, w));
            foreach (var needed in copy.Requires)
            {
                if (Media.TryGetValue(needed.Label, out var m) && m.WriteId == needed.WriteId && (m.NeededUntil is null || m.NeededUntil < w.RetainUntil))
                    m.NeededUntil = w.RetainUntil;
            }
        }

        if (w.Kind == BackupKind.Full)
        {
            _sinceFull.Clear();
            foreach (var set in w.Sets)
                LastFullBySource[set.Source] = w.Date;
        }

        _sinceFull.Add(w);
        _chain = null;
        if (!WrittenByPool.TryGetValue(w.Pool, out var written2))
            WrittenByPool[w.Pool] = written2 = new HashSet<string>(StringComparer.Ordinal);
        written2.UnionWith(setIds);
        WrittenAnywhere.UnionWith(setIds);
    }

    /// <summary>
    /// Does the medium survive the loss of these sites (and, when <paramref name="transitLost"/>, of what the primary
    /// holds in transit)? A medium shipped to a site kept by a custodian is in the custodian's keeping from the moment
    /// it leaves (the image went there at once): it is lost only with that site.
    /// </summary>
    public bool Survives(MediumRef needed, IReadOnlySet<string> lostSites, bool transitLost) =>
        Media.TryGetValue(needed.Label, out var m) && m.WriteId == needed.WriteId && m.HoldsData
        && (m.Site is not null ? !lostSites.Contains(m.Site)
            : CustodianKeepsInTransit(m) ? !lostSites.Contains(m.Destination!)
            : !transitLost);

    /// <summary>Is this medium in transit towards a custodian, from a site that is not one (the image is already there)?</summary>
    public bool CustodianKeepsInTransit(MediumInfo m) =>
        m is { State: MediumState.InTransit, Destination: { } to } && Policy?.Sites.FirstOrDefault(s => s.Name == to)?.HasCustodian == true
        && Policy.Sites.FirstOrDefault(s => s.Name == m.From)?.HasCustodian != true;

    /// <summary>The site a copy lies at when every medium it needs is at the same site; null when spread or moving.</summary>
    public string? SiteOf(SetCopy copy)
    {
        string? site = null;
        foreach (var needed in copy.Requires)
        {
            if (!Media.TryGetValue(needed.Label, out var m) || m.WriteId != needed.WriteId || !m.HoldsData || m.Site is null)
                return null;
            if (site is not null && site != m.Site)
                return null;
            site = m.Site;
        }

        return site;
    }
}
