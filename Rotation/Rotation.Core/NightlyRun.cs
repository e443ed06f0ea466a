namespace Rotation.Core;

/// <summary>What the nightly run does to the world besides recording events: write, erase and move image files.</summary>
public interface IMediaEffects
{
    /// <summary>Writes one medium of a write (items in tape order) at the drive's site; returns what was written.</summary>
    Task<WrittenMedium> WriteAsync(string writeId, PoolDefinition pool, DateOnly date, int spanIndex, int spanCount, string label, IReadOnlyList<TapeItem> items, CancellationToken ct);

    Task EraseAsync(MediumInfo medium, CancellationToken ct);

    /// <summary>Sends a medium from <paramref name="from"/> towards <paramref name="to"/> (it is in transit until <paramref name="arrivesBy"/>).</summary>
    Task ShipAsync(MediumInfo medium, string from, string to, DateOnly arrivesBy, CancellationToken ct);

    /// <summary>Confirms a medium in transit has arrived at <paramref name="site"/>.</summary>
    Task ReceiveAsync(MediumInfo medium, string site, CancellationToken ct);
}

/// <summary>
/// A move that cannot happen tonight (a custodian is down, or by its clock a medium is still with the courier or still
/// retained): nothing changed; the run warns and the move is offered again on the next run.
/// </summary>
public sealed class MoveDeferredException(string message, Exception? inner = null, Vault.Core.Errors.FailureKind kind = Vault.Core.Errors.FailureKind.Unavailable)
    : Vault.Core.Errors.VaultException(message, inner)
{
    public override Vault.Core.Errors.FailureKind Kind => kind;
}

public sealed record NightlySummary(DateOnly Date, Plan Plan, IReadOnlyList<MediaWritten> Written, IReadOnlyList<PlanWarning> Skipped, int Moves, int Labeled);

/// <summary>
/// One night of rotation, the same for the real service and the simulator: record expiries, erase and recycle (or
/// retire) expired media at the drive's site, confirm arrivals, write tonight's pools, then ship what the plan says.
/// Every change is recorded through <c>record</c> right after its effect, so a run cut short resumes from the log.
/// </summary>
public static class NightlyRun
{
    public static async Task<NightlySummary> RunAsync(
        RotationState state, IReadOnlyList<SetInfo> sets, DateOnly date, IMediaEffects effects, Func<IRotationEvent, Task> record,
        bool courier, bool labelWhenExhausted, Func<string, string> newWriteId, CancellationToken ct)
    {
        var policy = state.Policy ?? throw new InvalidOperationException("Rotation is not set up: no policy in the log.");
        var plan = Planner.Plan(state, sets, date);
        var labeled = 0;
        if (labelWhenExhausted)
        {
            foreach (var write in plan.Writes.Where(w => w.Media.Count < w.MediaNeeded))
            {
                var pool = policy.Pool(write.Pool);
                for (var i = write.Media.Count; i < write.MediaNeeded; i++, labeled++)
                    await Record(state, record, new MediumLabeled(state.NextLabel(pool), pool.Name, pool.CapacityBytes, pool.MaxPasses, policy.DriveSite, date));
            }

            if (labeled > 0)
                plan = Planner.Plan(state, sets, date);
        }

        var moves = 0;
        var skipped = new List<PlanWarning>();
        foreach (var label in plan.Expire)
            await Record(state, record, new MediumExpired(label, date));
        foreach (var label in plan.Recycle)
        {
            await effects.EraseAsync(state.Media[label], ct);
            await Record(state, record, new MediumRecycled(label, date, state.Media[label].State == MediumState.Writing ? "interrupted write" : "expired"));
        }

        foreach (var label in plan.Retire)
        {
            await effects.EraseAsync(state.Media[label], ct);
            await Record(state, record, new MediumRetired(label, date, $"worn: {state.Media[label].Wear} of {state.Media[label].MaxPasses} passes"));
        }

        if (courier)
        {
            foreach (var label in plan.Arrivals)
            {
                var medium = state.Media[label];
                try
                {
                    await effects.ReceiveAsync(medium, medium.Destination!, ct);
                }
                catch (MoveDeferredException ex)
                {
                    skipped.Add(new PlanWarning("arrival-deferred", ex.Message));
                    continue;
                }

                await Record(state, record, new MediumReceived(label, medium.Destination!, date));
                moves++;
            }
        }

        var written = new List<MediaWritten>();
        foreach (var write in plan.Writes)
        {
            var pool = policy.Pool(write.Pool);
            if (write.Media.Count < write.MediaNeeded)
            {
                skipped.Add(new PlanWarning("write-skipped", $"Tonight's {pool.Name} write was not done: it needs {write.MediaNeeded} blank media and {write.Media.Count} are available."));
                continue;
            }

            var content = Planner.Content(state, sets, pool, date);
            var packs = Planner.Pack(content.Items, pool.CapacityBytes);
            var writeId = newWriteId(pool.Name);
            var media = new List<WrittenMedium>();
            var placements = new List<SegmentPlacement>();
            for (var i = 0; i < packs.Count; i++)
            {
                var label = write.Media[i];
                await Record(state, record, new MediumLoaded(label, writeId, i, date));
                media.Add(await effects.WriteAsync(writeId, pool, date, i, packs.Count, label, packs[i], ct));
                placements.AddRange(packs[i].OfType<SegmentItem>().Select(s => new SegmentPlacement(s.Segment.Hash, label)));
            }

            var where = placements.ToDictionary(p => p.Hash, p => new MediumRef(p.Label, writeId), StringComparer.Ordinal);
            var copies = content.Sets.Select(set => new SetCopy(set.SetId, set.Source, set.SealedAt,
                [.. set.Segments.Append(set.Manifest).Select(s => where.TryGetValue(s.Hash, out var here) ? here : state.Chain[s.Hash]).Distinct()])).ToArray();
            var e = new MediaWritten(writeId, pool.Name, pool.Backup, date, date.AddDays(pool.KeepDays), policy.DriveSite, media, copies, placements);
            await Record(state, record, e);
            written.Add(e);
        }

        if (courier)
        {
            foreach (var move in Planner.Shipments(state, date).ToList().Concat(plan.Recalls))
            {
                var medium = state.Media[move.Label];
                try
                {
                    await effects.ShipAsync(medium, move.From, move.To, move.ArrivesBy, ct);
                }
                catch (MoveDeferredException ex)
                {
                    skipped.Add(new PlanWarning("shipment-deferred", ex.Message));
                    continue;
                }

                await Record(state, record, new MediumShipped(move.Label, move.From, move.To, date, move.ArrivesBy));
                moves++;
            }
        }

        return new NightlySummary(date, plan, written, skipped, moves, labeled);
    }

    private static async Task Record(RotationState state, Func<IRotationEvent, Task> record, IRotationEvent e)
    {
        await record(e);
        state.Apply(e);
    }
}
