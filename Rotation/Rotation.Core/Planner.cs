namespace Rotation.Core;

/// <summary>One record of a write, in tape order: a segment, or the mark that closes a set (after its last segment and its manifest).</summary>
public abstract record TapeItem;

public sealed record SegmentItem(SegmentRef Segment) : TapeItem;

public sealed record SetMarkItem(SetInfo Set) : TapeItem;

/// <summary>What one pool writes tonight: the sets, and in tape order every segment not already on the chain.</summary>
public sealed record WriteContent(PoolDefinition Pool, IReadOnlyList<SetInfo> Sets, IReadOnlyList<TapeItem> Items, long Bytes, int Segments);

public sealed record PlannedWrite(string Pool, BackupKind Kind, IReadOnlyList<string> Sets, int Segments, long Bytes, int MediaNeeded, IReadOnlyList<string> Media);

public sealed record PlannedMove(string Label, string From, string To, DateOnly ArrivesBy, string Why);

public sealed record PlanWarning(string Code, string Message);

/// <summary>The operator's pull list for one day.</summary>
public sealed record Plan(
    DateOnly Date,
    IReadOnlyList<PlannedWrite> Writes,
    IReadOnlyList<PlannedMove> Shipments,
    IReadOnlyList<PlannedMove> Recalls,
    IReadOnlyList<string> Arrivals,
    IReadOnlyList<string> Expire,
    IReadOnlyList<string> Recycle,
    IReadOnlyList<string> Retire,
    IReadOnlyList<PlanWarning> Warnings);

/// <summary>
/// The planner: a pure function of the rotation's state (folded from the log), the sealed sets and a date. It says
/// which pools write tonight and onto which media, what is shipped, recalled, expired, recycled or retired, and what
/// the operator must look at.
/// </summary>
public static class Planner
{
    public static Plan Plan(RotationState state, IReadOnlyList<SetInfo> sets, DateOnly date)
    {
        var policy = state.Policy ?? throw new InvalidOperationException("Rotation is not set up: no policy in the log.");
        var drive = policy.DriveSite;
        var warnings = new List<PlanWarning>();
        var held = sets.Where(s => s.Held).Select(s => s.SetId).ToHashSet(StringComparer.Ordinal);

        // Expiry first, so media recycled tonight can take tonight's writes.
        var expire = new List<string>();
        var recycle = new List<string>();
        var retire = new List<string>();
        var recalls = new List<PlannedMove>();
        foreach (var m in state.Media.Values.OrderBy(m => m.Label, StringComparer.Ordinal))
        {
            if (m.State == MediumState.Writing)
            {
                warnings.Add(new PlanWarning("interrupted-write", $"{m.Label} was left half-written by an interrupted run; it is erased and reused."));
                recycle.Add(m.Label);
                continue;
            }

            if (!m.HoldsData || m.NeededUntil is not { } until || until >= date)
                continue;
            if (m.Sets.FirstOrDefault(held.Contains) is { } heldSet)
            {
                warnings.Add(new PlanWarning("held", $"{m.Label} is past its retention but keeps set {heldSet}, which is under legal hold; it is not recycled."));
                continue;
            }

            if (!m.IsExpired)
                expire.Add(m.Label);
            if (m.State == MediumState.InTransit)
                continue;
            if (m.Site != drive)
                recalls.Add(new PlannedMove(m.Label, m.Site!, drive, date.AddDays(Math.Max(policy.Site(m.Site!).CourierDays, 1)), "expired: recall for recycling"));
            else if (m.Wear >= m.MaxPasses)
                retire.Add(m.Label);
            else
                recycle.Add(m.Label);
        }

        var writes = new List<PlannedWrite>();
        var taken = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pool in policy.Pools.Where(p => p.Schedule.Matches(date)))
        {
            var content = Content(state, sets, pool, date);
            if (content.Sets.Count == 0)
                continue;
            var needed = Pack(content.Items, pool.CapacityBytes).Count;
            var blank = state.Media.Values
                .Where(m => m.Pool == pool.Name && m.Site == drive && (m.IsBlank || recycle.Contains(m.Label)) && m.Wear < m.MaxPasses && !taken.Contains(m.Label))
                .OrderBy(m => m.Wear).ThenBy(m => m.Label, StringComparer.Ordinal).Take(needed).Select(m => m.Label).ToArray();
            taken.UnionWith(blank);
            if (blank.Length < needed)
                warnings.Add(new PlanWarning("pool-exhausted", $"Pool {pool.Name} needs {needed} blank media tonight and has {blank.Length} at {drive}; label more (vault media add) or recall expired ones."));
            writes.Add(new PlannedWrite(pool.Name, pool.Backup, [.. content.Sets.Select(s => s.SetId)], content.Segments, content.Bytes, needed, blank));
        }

        var shipments = Shipments(state, date).ToList();
        foreach (var write in writes)
        {
            var destination = policy.Pool(write.Pool).Site;
            if (destination != drive)
                shipments.AddRange(write.Media.Select(l => new PlannedMove(l, drive, destination, date.AddDays(policy.Site(destination).CourierDays), $"tonight's {write.Pool}, once written")));
        }

        var arrivals = state.Media.Values.Where(m => m.State == MediumState.InTransit && m.ArrivesBy <= date).Select(m => m.Label).Order(StringComparer.Ordinal).ToList();
        foreach (var m in state.Media.Values.Where(m => m.State == MediumState.InTransit && m.ArrivesBy!.Value.AddDays(policy.TransitOverdueDays) < date))
            warnings.Add(new PlanWarning("transit-overdue", $"{m.Label} was due at {m.Destination} on {m.ArrivesBy:yyyy-MM-dd} and has not been received; find it, or mark it lost (vault media lose)."));

        warnings.AddRange(Unprotected(state, sets, date, policy));
        var firstSeen = new Dictionary<string, DateOnly>(StringComparer.Ordinal);
        foreach (var set in InRange(sets, date.AddDays(-policy.WindowDays), date))
            firstSeen.TryAdd(set.Source, set.SealedOn);
        foreach (var (source, first) in firstSeen.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var last = state.LastFullBySource.TryGetValue(source, out var d) ? d : (DateOnly?)null;
            if (date.DayNumber - (last ?? first).DayNumber > policy.MaxDaysWithoutFull)
                warnings.Add(new PlanWarning("no-recent-full", $"Source {source} has had no full backup on media {(last is { } x ? $"since {x:yyyy-MM-dd}" : "yet")} (limit {policy.MaxDaysWithoutFull} days)."));
        }

        return new Plan(date, writes, shipments, recalls, arrivals, expire, recycle, retire, warnings);
    }

    /// <summary>Media written and still at the drive's site whose pool is kept elsewhere: they go out with the next courier.</summary>
    public static IEnumerable<PlannedMove> Shipments(RotationState state, DateOnly date)
    {
        var policy = state.Policy!;
        foreach (var m in state.Media.Values.Where(m => m.State == MediumState.Full && m.Site == policy.DriveSite).OrderBy(m => m.Label, StringComparer.Ordinal))
        {
            var destination = policy.Pool(m.Pool).Site;
            if (destination != policy.DriveSite)
                yield return new PlannedMove(m.Label, policy.DriveSite, destination, date.AddDays(policy.Site(destination).CourierDays), $"{m.Pool} written {m.WrittenOn:yyyy-MM-dd}");
        }
    }

    /// <summary>Sealed sets older than the policy's grace and within its window that are not on two sites, one off site.</summary>
    public static IEnumerable<PlanWarning> Unprotected(RotationState state, IReadOnlyList<SetInfo> sets, DateOnly date, RotationPolicy policy)
    {
        var oldest = date.AddDays(-policy.WindowDays);
        var youngest = date.AddDays(-policy.ProtectAfterDays);
        foreach (var set in InRange(sets, oldest, youngest))
        {
            var sites = SitesHolding(state, set, policy);
            if (sites.Count < 2 || !sites.Any(s => policy.Site(s).Offsite))
                yield return new PlanWarning("set-unprotected", $"Set {set.SetId} (sealed {set.SealedOn:yyyy-MM-dd}) is only at {string.Join(", ", sites)}; it should be on two sites, one off site.");
        }
    }

    /// <summary>The sites holding a complete copy of the set: the drive's site (the vault's own store) and every site where all media of one copy lie.</summary>
    public static HashSet<string> SitesHolding(RotationState state, SetInfo set, RotationPolicy policy)
    {
        var sites = new HashSet<string>(StringComparer.Ordinal) { policy.DriveSite };
        if (state.Copies.TryGetValue(set.SetId, out var copies))
        {
            foreach (var (copy, _) in copies)
            {
                if (state.SiteOf(copy) is { } site)
                    sites.Add(site);
            }
        }

        return sites;
    }

    /// <summary>Sets sealed on a day in (<paramref name="after"/>, <paramref name="upTo"/>]; <paramref name="sets"/> is in seal order.</summary>
    public static IEnumerable<SetInfo> InRange(IReadOnlyList<SetInfo> sets, DateOnly after, DateOnly upTo)
    {
        var lo = 0;
        var hi = sets.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (sets[mid].SealedOn <= after)
                lo = mid + 1;
            else
                hi = mid;
        }

        for (var i = lo; i < sets.Count && sets[i].SealedOn <= upTo; i++)
            yield return sets[i];
    }

    /// <summary>
    /// What a pool writes on a date. A full: every set not yet on this pool sealed within its keep, plus the newest set
    /// of every source, with all their segments. An incremental: the sets not yet on any medium, with only the segments
    /// the chain since the last full does not hold.
    /// </summary>
    public static WriteContent Content(RotationState state, IReadOnlyList<SetInfo> sets, PoolDefinition pool, DateOnly date)
    {
        var after = date.AddDays(-pool.KeepDays);
        var chosen = new List<SetInfo>();
        if (pool.Backup == BackupKind.Full)
        {
            var onPool = state.WrittenByPool.GetValueOrDefault(pool.Name);
            // The newest set of every source still backing up (one seen within the longest keep).
            var newest = new Dictionary<string, SetInfo>(StringComparer.Ordinal);
            foreach (var set in InRange(sets, date.AddDays(-state.Policy!.WindowDays), date))
                newest[set.Source] = set;
            var picked = InRange(sets, after, date).Where(s => onPool is null || !onPool.Contains(s.SetId)).ToHashSet();
            picked.UnionWith(newest.Values);
            chosen.AddRange(picked.OrderBy(s => s.SealedAt).ThenBy(s => s.SetId, StringComparer.Ordinal));
        }
        else
        {
            chosen.AddRange(InRange(sets, after, date).Where(s => !state.WrittenAnywhere.Contains(s.SetId)));
        }

        var items = new List<TapeItem>();
        var written = new HashSet<string>(StringComparer.Ordinal);
        long bytes = 0;
        foreach (var set in chosen)
        {
            foreach (var segment in set.Segments.Append(set.Manifest))
            {
                if ((pool.Backup == BackupKind.Incremental && state.Chain.ContainsKey(segment.Hash)) || !written.Add(segment.Hash))
                    continue;
                items.Add(new SegmentItem(segment));
                bytes += segment.StoredBytes;
            }

            items.Add(new SetMarkItem(set));
        }

        return new WriteContent(pool, chosen, items, bytes, written.Count);
    }

    /// <summary>Splits a write's items over media of <paramref name="capacity"/> bytes, spanning when one is full.</summary>
    public static List<List<TapeItem>> Pack(IReadOnlyList<TapeItem> items, long capacity)
    {
        var media = new List<List<TapeItem>> { new() };
        long used = TapeLayout.HeaderReserve;
        int segments = 0, marks = 0;
        foreach (var item in items)
        {
            var bytes = item is SegmentItem s ? TapeLayout.SegmentRecordBytes(s.Segment.StoredBytes) : TapeLayout.CatalogPerSet;
            if (!TapeLayout.Fits(capacity, used, bytes, segments, marks) && media[^1].Count > 0)
            {
                media.Add([]);
                used = TapeLayout.HeaderReserve;
                segments = marks = 0;
            }

            media[^1].Add(item);
            used += bytes;
            if (item is SegmentItem)
                segments++;
            else
                marks++;
        }

        return media;
    }
}
