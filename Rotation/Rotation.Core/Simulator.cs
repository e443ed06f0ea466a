namespace Rotation.Core;

public sealed record SimulationOptions(
    DateOnly Start, int Days, int Sources = 3, int SegmentsPerSet = 40, double DailyChange = 0.05, long SegmentBytes = 2L << 20, int Seed = 1,
    bool LabelWhenExhausted = true);

/// <summary>The worst recovery point seen when one site is lost, from surviving media alone and with the vault's own store when it survives.</summary>
public sealed record SiteLossFigure(string Site, double WorstHoursWithVault, double WorstHoursMediaOnly, DateOnly WorstDay, int DaysWithSetsLost);

public sealed record SimulationReport(
    DateOnly Start, int Days, int Sets, IReadOnlyDictionary<string, int> MediaPerPool, IReadOnlyDictionary<string, int> PeakMediaInUse,
    double MovesPerWeek, int MostMovesInAWeek, long BytesWritten, int Writes, IReadOnlyList<SiteLossFigure> SiteLoss, IReadOnlyDictionary<string, int> Warnings);

/// <summary>
/// The calendar in accelerated time: every night each source seals a synthetic set (a share of its segments changed),
/// the nightly run writes, expires, recycles and ships exactly as the service does (with the courier always on time),
/// and after each night the loss of every single site is evaluated.
/// </summary>
public static class Simulator
{
    /// <summary>The media-only figure is taken after the first cycle of every pool but the longest has run (5 weeks and a courier trip).</summary>
    public const int WarmUpDays = 42;

    private sealed class NoImages : IMediaEffects
    {
        public Task<WrittenMedium> WriteAsync(string writeId, PoolDefinition pool, DateOnly date, int spanIndex, int spanCount, string label, IReadOnlyList<TapeItem> items, CancellationToken ct) =>
            Task.FromResult(new WrittenMedium(label, spanIndex, TapeLayout.HeaderReserve + items.Sum(i => i is SegmentItem s ? TapeLayout.SegmentRecordBytes(s.Segment.StoredBytes) : TapeLayout.CatalogPerSet), ""));

        public Task EraseAsync(MediumInfo medium, CancellationToken ct) => Task.CompletedTask;

        public Task ShipAsync(MediumInfo medium, string from, string to, DateOnly arrivesBy, CancellationToken ct) => Task.CompletedTask;

        public Task ReceiveAsync(MediumInfo medium, string site, CancellationToken ct) => Task.CompletedTask;
    }

    public static SimulationReport Run(RotationPolicy policy, SimulationOptions options, Action<DateOnly, RotationState, IReadOnlyList<SetInfo>, NightlySummary>? afterNight = null, Action<IRotationEvent>? recorded = null) =>
        RunAsync(policy, options, afterNight, recorded).GetAwaiter().GetResult();

    /// <param name="recorded">Sees every event, in order, as the log would hold it.</param>
    public static async Task<SimulationReport> RunAsync(RotationPolicy policy, SimulationOptions options, Action<DateOnly, RotationState, IReadOnlyList<SetInfo>, NightlySummary>? afterNight = null, Action<IRotationEvent>? recorded = null)
    {
        var state = new RotationState();
        var first = options.Start.AddDays(-1);
        void Setup(IRotationEvent e)
        {
            state.Apply(e);
            recorded?.Invoke(e);
        }

        Setup(new RotationConfigured(policy, first));
        foreach (var pool in policy.Pools)
        {
            for (var i = 0; i < pool.Media; i++)
                Setup(new MediumLabeled(state.NextLabel(pool), pool.Name, pool.CapacityBytes, pool.MaxPasses, policy.DriveSite, first));
        }

        var random = new Random(options.Seed);
        var sets = new List<SetInfo>();
        var counter = 0L;
        var current = Enumerable.Range(0, options.Sources).Select(_ => Enumerable.Range(0, options.SegmentsPerSet).Select(_ => NewSegment()).ToArray()).ToArray();
        var effects = new NoImages();
        var writes = 0;
        var ids = 0;
        long bytes = 0;
        var moves = new List<int>();
        var weekMoves = 0;
        var warnings = new Dictionary<string, int>(StringComparer.Ordinal);
        var peak = policy.Pools.ToDictionary(p => p.Name, _ => 0);
        var figures = policy.Sites.ToDictionary(s => s.Name, s => (Vault: 0.0, Media: 0.0, Day: options.Start, Lost: 0));
        for (var day = 0; day < options.Days; day++)
        {
            var date = options.Start.AddDays(day);
            var sealedAt = new DateTimeOffset(date.ToDateTime(new TimeOnly(21, 0)), TimeSpan.Zero);
            for (var s = 0; s < options.Sources; s++)
            {
                var segments = current[s];
                for (var i = 0; i < segments.Length; i++)
                {
                    if (random.NextDouble() < options.DailyChange)
                        segments[i] = NewSegment();
                }

                sets.Add(new SetInfo($"src{s}-{date:yyyyMMdd}", $"src{s}", sealedAt, new SegmentRef($"manifest:src{s}-{date:yyyyMMdd}", 4096), [.. segments.Distinct()]));
            }

            var summary = await NightlyRun.RunAsync(state, sets, date, effects, e => { recorded?.Invoke(e); return Task.CompletedTask; }, courier: true, options.LabelWhenExhausted, _ => $"w{++ids}", CancellationToken.None);
            writes += summary.Written.Count;
            bytes += summary.Written.Sum(w => w.Media.Sum(m => m.Bytes));
            weekMoves += summary.Moves;
            if (date.DayOfWeek == DayOfWeek.Saturday || day == options.Days - 1)
            {
                moves.Add(weekMoves);
                weekMoves = 0;
            }

            foreach (var warning in summary.Plan.Warnings.Concat(summary.Skipped))
                warnings[warning.Code] = warnings.GetValueOrDefault(warning.Code) + 1;
            foreach (var group in state.Media.Values.Where(m => m.HoldsData).GroupBy(m => m.Pool))
                peak[group.Key] = Math.Max(peak[group.Key], group.Count());
            foreach (var site in policy.Sites)
            {
                var loss = SiteLoss.Evaluate(state, sets, policy, site.Name, date, newestOnly: true);
                var (vault, media, worstDay, lost) = figures[site.Name];
                var withVault = loss.Sources.Values.Max(s => s.RecoveryPointHours ?? double.PositiveInfinity);
                var mediaOnly = loss.Sources.Values.Max(s => s.MediaOnlyRecoveryPointHours ?? double.PositiveInfinity);
                if (day >= policy.ProtectAfterDays && withVault > vault)
                    (vault, worstDay) = (withVault, date);
                if (day >= WarmUpDays)
                    media = Math.Max(media, mediaOnly);
                if (day >= policy.ProtectAfterDays && double.IsInfinity(withVault))
                    lost++;
                figures[site.Name] = (vault, media, worstDay, lost);
            }

            afterNight?.Invoke(date, state, sets, summary);
        }

        return new SimulationReport(options.Start, options.Days, sets.Count,
            state.Media.Values.GroupBy(m => m.Pool).ToDictionary(g => g.Key, g => g.Count()), peak,
            moves.Count == 0 ? 0 : moves.Average(), moves.DefaultIfEmpty().Max(), bytes, writes,
            [.. figures.Select(f => new SiteLossFigure(f.Key, Finite(f.Value.Vault), Finite(f.Value.Media), f.Value.Day, f.Value.Lost))], warnings);

        static double Finite(double hours) => double.IsInfinity(hours) ? -1 : Math.Round(hours, 1);

        SegmentRef NewSegment() => new($"seg:{++counter:x}", options.SegmentBytes);
    }
}
