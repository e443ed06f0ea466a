using System.CommandLine;
using System.Globalization;
using Rotation.Core;
using Rotation.Service;
using Vault.Core.Errors;
using Vault.Storage.Segments;

namespace Vault.Ops.Commands;

/// <summary>vault rotation, media, sites and drill: the operator's day with tape-style media across sites.</summary>
public static class RotationCommands
{
    private static readonly Option<string?> Date = new("--date") { Description = "The day to plan or run (UTC, YYYY-MM-DD); default today.", HelpName = "DATE" };
    private static readonly Option<FileInfo?> PolicyFile = new("--policy") { Description = "A policy file (JSON, see docs/rotation.md); default: the grandfather-father-son policy, written to rotation.json for editing.", HelpName = "FILE" };
    private static readonly Option<bool> Courier = new("--courier") { Description = "The courier comes tonight: also ship what the plan says and confirm arrivals that are due (otherwise use 'vault media ship|receive')." };
    private static readonly Option<bool> LabelNew = new("--label-new-media") { Description = "When a pool has too few blank media, label new ones instead of skipping its write." };
    private static readonly Option<int> Days = new("--days") { Description = "How many days to simulate.", DefaultValueFactory = _ => 365, HelpName = "N" };
    private static readonly Option<int> Sources = new("--sources") { Description = "Synthetic sources backed up every night.", DefaultValueFactory = _ => 3, HelpName = "N" };
    private static readonly Argument<string> Label = new("LABEL") { Description = "The medium's label, e.g. W00007." };
    private static readonly Option<string?> To = new("--to") { Description = "Destination site (default: the pool's site, or the drive's site for an expired medium).", HelpName = "SITE" };
    private static readonly Option<string> Reason = new("--reason") { Description = "Why, for the record.", Required = true, HelpName = "TEXT" };
    private static readonly Argument<string> Pool = new("POOL") { Description = "The pool: daily, weekly, monthly, or one of your policy's." };
    private static readonly Option<int> Count = new("--count") { Description = "How many media to label.", DefaultValueFactory = _ => 1, HelpName = "N" };
    private static readonly Argument<string> Site = new("SITE") { Description = "The site lost in the drill: primary, offsite-a, offsite-b, or one of your policy's." };
    private static readonly Option<string?> At = new("--at") { Description = "Replay the log up to this day (YYYY-MM-DD) and lose the site then; default today.", HelpName = "DATE" };
    private static readonly Option<string?> KeyLoss = new("--with-key-loss") { Description = "An approver whose key is lost with the site: the drill also says what governance can still do.", HelpName = "APPROVER" };
    private static readonly Option<string?> Execute = new("--execute") { Description = "Actually restore every set the surviving media hold, from the images alone, into this new or empty directory.", HelpName = "DIR" };
    private static readonly Option<bool> Newest = new("--newest") { Description = "With --execute, restore only the newest restorable set of each source." };

    private static readonly Option<string[]> Images = new("--images") { Description = "Directories (or .vtape files) holding tape images.", Required = true, AllowMultipleArgumentsPerToken = true, HelpName = "DIR" };
    private static readonly Argument<string> SetArgument = new("SET") { Description = "The set to restore." };
    private static readonly Option<string> RestoreTo = new("--to") { Description = "A new or empty directory (or - for a stream set).", Required = true, HelpName = "DIR" };

    private static TapeLibrary OpenImages(ParseResult parse)
    {
        var paths = parse.GetValue(Images)!;
        var missing = paths.FirstOrDefault(p => !Directory.Exists(p) && !File.Exists(p));
        if (missing is not null)
            throw new VaultConfigurationException($"{missing} is neither a directory nor an image file.");
        return TapeLibrary.Open(paths);
    }

    public static IEnumerable<Command> Create(CliContext context)
    {
        var configure = new Command("configure", """
            Set up rotation (or change its policy): records the policy in the log, labels the media each pool names,
            creates the site directories (sites/SITE in the vault; in production, mounts at those places), and writes
            the policy to rotation.json so you can edit it and run this again.
            """)
        { PolicyFile };
        configure.SetAction((parse, ct) => WithService(parse, context, ct, async service =>
        {
            var file = parse.GetValue(PolicyFile);
            var policy = file is null ? RotationPolicy.Default() : RotationPolicy.Parse(await ReadPolicyAsync(file, ct), file.FullName);
            var (applied, labeled) = await service.ConfigureAsync(policy, ct);
            if (Json(parse))
                context.WriteJson(new { policy = applied, labeled });
            else
                context.Output.WriteLine($"rotation configured: {string.Join(", ", applied.Pools.Select(p => $"{p.Name} ({p.Backup.ToString().ToLowerInvariant()}, {p.Schedule.Days.Count} days a week{(p.Schedule.FirstOfMonth ? ", first of month" : "")}, kept {p.KeepDays} d at {p.Site})"))}; {labeled} media labeled");
            return ExitCodes.Ok;
        }));

        var plan = new Command("plan", "Today's pull list (or another day's): which media to load and which sets they take, what to ship, recall, recycle or retire, and warnings.") { Date };
        plan.SetAction((parse, ct) => WithService(parse, context, ct, async service =>
        {
            var result = await service.PlanAsync(DateOf(parse, Date, service), ct);
            if (Json(parse))
                context.WriteJson(result);
            else
                PrintPlan(context, result);
            return ExitCodes.Ok;
        }));

        var run = new Command("run", """
            Do tonight's rotation: record expiries, erase and recycle (or retire) expired media at the drive's site, and
            write each pool scheduled tonight onto blank media, spanning onto the next when one is full. With --courier
            it also ships and receives what the plan says: to a site's custodian the image is deposited at once. Exit 12
            when a pool could not be written (no blank media) or a move was put off (a custodian down, or by its own
            clock a medium is still retained or with the courier): the next run offers it again.
            It acts on today by this host's clock only: --date must be today (a plan for another day: 'rotation plan --date').
            """)
        { Date, Courier, LabelNew };
        run.SetAction((parse, ct) => WithService(parse, context, ct, async service =>
        {
            var summary = await service.RunAsync(DateOf(parse, Date, service), parse.GetValue(Courier), parse.GetValue(LabelNew), ct);
            if (Json(parse))
            {
                context.WriteJson(summary);
            }
            else
            {
                foreach (var w in summary.Written)
                    context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote    {w.Pool} ({w.Kind.ToString().ToLowerInvariant()}) {w.Sets.Count} sets, {w.Segments.Count} segments, {w.Media.Sum(m => m.Bytes) / 1e6:N1} MB on {string.Join(", ", w.Media.Select(m => m.Label))}"));
                foreach (var label in summary.Plan.Recycle)
                    context.Output.WriteLine($"recycled {label}");
                foreach (var label in summary.Plan.Retire)
                    context.Output.WriteLine($"retired  {label} (worn out)");
                if (summary.Moves > 0)
                    context.Output.WriteLine($"moved    {summary.Moves} media (courier)");
                foreach (var warning in summary.Plan.Warnings.Concat(summary.Skipped))
                    context.Error.WriteLine($"warning  [{warning.Code}] {warning.Message}");
                if (summary.Written.Count == 0 && summary.Skipped.Count == 0)
                    context.Output.WriteLine("nothing to write tonight");
            }

            return summary.Skipped.Count > 0 ? ExitCodes.Incomplete : ExitCodes.Ok;
        }));

        var simulate = new Command("simulate", """
            Run the calendar in accelerated time (no vault needed): synthetic nightly backups of each source, the nightly
            rotation with the courier always on time, and after every night the loss of each single site. Reports the
            media each pool needs, moves per week, and the worst recovery point under the loss of each site.
            """)
        { Days, Sources, PolicyFile };
        simulate.SetAction(async (parse, ct) =>
        {
            var file = parse.GetValue(PolicyFile);
            var policy = file is null ? RotationPolicy.Default() : RotationPolicy.Parse(await ReadPolicyAsync(file, ct), file.FullName);
            var days = parse.GetValue(Days);
            if (days is < 1 or > 36600)
                throw new VaultConfigurationException("--days takes 1 to 36600.");
            var start = DateOnly.FromDateTime(context.Clock.GetUtcNow().UtcDateTime);
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var report = await Simulator.RunAsync(policy, new SimulationOptions(start, days, Math.Clamp(parse.GetValue(Sources), 1, 100)));
            if (Json(parse))
            {
                context.WriteJson(report);
                return ExitCodes.Ok;
            }

            context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"simulated {report.Days} days from {report.Start:yyyy-MM-dd}: {report.Sets} sets, {report.Writes} writes, {report.BytesWritten / 1e9:N1} GB written ({watch.Elapsed.TotalSeconds:N1} s)"));
            foreach (var (pool, count) in report.MediaPerPool)
                context.Output.WriteLine($"media    {pool,-10} {count,4} labeled, at most {report.PeakMediaInUse.GetValueOrDefault(pool),4} holding data at once");
            context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"moves    {report.MovesPerWeek:N1} per week on average, at most {report.MostMovesInAWeek} in one week"));
            foreach (var loss in report.SiteLoss)
                context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"lose     {loss.Site,-10} worst recovery point {Hours(loss.WorstHoursWithVault)} (from media alone: {Hours(loss.WorstHoursMediaOnly)}), worst on {loss.WorstDay:yyyy-MM-dd}"));
            foreach (var (code, count) in report.Warnings)
                context.Output.WriteLine($"warnings {code}: {count}");
            return ExitCodes.Ok;
        });

        var rotation = new Command("rotation", "Tape-style rotation of media across sites: grandfather-father-son by default (docs/rotation.md).") { configure, plan, run, simulate, Propose(context) };

        var list = new Command("list", "Every medium: pool, state, site, wear, what it holds and until when.");
        list.SetAction((parse, ct) => WithService(parse, context, ct, async service =>
        {
            var journal = await service.LoadForShowingAsync(ct);
            var media = journal.State.Media.Values.OrderBy(m => m.Label, StringComparer.Ordinal).ToArray();
            if (Json(parse))
            {
                context.WriteJson(media);
                return ExitCodes.Ok;
            }

            Tables.Write(context, ["LABEL", "POOL", "STATE", "WHERE", "WEAR", "WRITTEN", "UNTIL", "SETS"],
                [.. media.Select(m => new[]
                {
                    m.Label, m.Pool, m.State.ToString().ToLowerInvariant(), m.Site ?? $"-> {m.Destination}", $"{m.Wear}/{m.MaxPasses}",
                    m.WrittenOn?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "-", m.NeededUntil?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "-",
                    m.Sets.Count.ToString(CultureInfo.InvariantCulture),
                })],
                "(no media: 'vault rotation configure' labels them)", 7);
            return ExitCodes.Ok;
        }));

        var show = new Command("show", "One medium in full: state, place, wear, the write it holds and its sets.") { Label };
        show.SetAction((parse, ct) => WithService(parse, context, ct, async service =>
        {
            var journal = await service.LoadForShowingAsync(ct);
            var m = RotationService.Medium(journal, parse.GetValue(Label)!);
            if (Json(parse))
            {
                context.WriteJson(m);
                return ExitCodes.Ok;
            }

            context.Output.WriteLine($"medium   {m.Label} ({m.Pool}): {RotationService.Describe(m)}; wear {m.Wear} of {m.MaxPasses} passes; capacity {m.Capacity / 1e6:N0} MB");
            if (m.WriteId is not null)
            {
                context.Output.WriteLine($"write    {m.WriteId} on {m.WrittenOn:yyyy-MM-dd}, part {m.SpanIndex + 1}; {m.Bytes / 1e6:N1} MB; image sha256 {m.ImageSha256}");
                context.Output.WriteLine($"kept     until {m.NeededUntil:yyyy-MM-dd}{(m.NeededUntil != m.RetainUntil ? $" (its own retention {m.RetainUntil:yyyy-MM-dd}; later incrementals need it)" : "")}");
                foreach (var set in m.Sets)
                    context.Output.WriteLine($"set      {set}");
            }

            return ExitCodes.Ok;
        }));

        var ship = new Command("ship", "Hand a medium to the courier: it is in transit until received at its destination.") { Label, To };
        ship.SetAction((parse, ct) => WithService(parse, context, ct, async service =>
        {
            var shipped = await service.ShipAsync(parse.GetValue(Label)!, parse.GetValue(To), ct);
            Report(parse, context, shipped, $"{shipped.Label} shipped {shipped.From} -> {shipped.To}, due {shipped.ArrivesBy:yyyy-MM-dd}");
            return ExitCodes.Ok;
        }));

        var receive = new Command("receive", "Confirm a medium arrived at its destination.") { Label };
        receive.SetAction((parse, ct) => WithService(parse, context, ct, async service =>
        {
            var received = await service.ReceiveAsync(parse.GetValue(Label)!, ct);
            Report(parse, context, received, $"{received.Label} received at {received.Site}");
            return ExitCodes.Ok;
        }));

        var lose = new Command("lose", "Record that a medium is gone (lost in transit, destroyed): its copies no longer count.") { Label, Reason };
        lose.SetAction((parse, ct) => WithService(parse, context, ct, async service =>
        {
            var e = await service.RemoveAsync(parse.GetValue(Label)!, lost: true, parse.GetValue(Reason)!, ct);
            Report(parse, context, e, $"{parse.GetValue(Label)} recorded lost");
            return ExitCodes.Ok;
        }));

        var retire = new Command("retire", "Take a medium out of service for good (worn, damaged); refused while it holds data still needed.") { Label, Reason };
        retire.SetAction((parse, ct) => WithService(parse, context, ct, async service =>
        {
            var e = await service.RemoveAsync(parse.GetValue(Label)!, lost: false, parse.GetValue(Reason)!, ct);
            Report(parse, context, e, $"{parse.GetValue(Label)} retired");
            return ExitCodes.Ok;
        }));

        var add = new Command("add", "Label new blank media for a pool (when the plan says a pool is exhausted).") { Pool, Count };
        add.SetAction((parse, ct) => WithService(parse, context, ct, async service =>
        {
            var labels = await service.AddMediaAsync(parse.GetValue(Pool)!, parse.GetValue(Count), ct);
            Report(parse, context, labels, $"labeled {string.Join(", ", labels)}");
            return ExitCodes.Ok;
        }));

        var scan = new Command("scan", """
            Read tape images on their own, without any vault: check every record's checksum and list the sets whose
            file marks they hold. Give the directories (or image files) to read, e.g. a site's mount.
            """)
        { Images };
        scan.SetAction((parse, ct) =>
        {
            var library = OpenImages(parse);
            if (Json(parse))
            {
                context.WriteJson(new { images = library.Images, sets = library.Sets.Values.OrderBy(s => s.SealedAt), damage = library.Damage });
                return Task.FromResult(ExitCodes.Ok);
            }

            context.Output.WriteLine($"{library.Images} images, {library.Sets.Count} sets, {library.Damage.Count} damaged records");
            foreach (var set in library.Sets.Values.OrderBy(s => s.SealedAt))
                context.Output.WriteLine($"set      {set.SetId,-32} {set.Source,-12} sealed {set.SealedAt:u} on {string.Join(", ", set.Labels.Distinct())}");
            foreach (var damage in library.Damage)
                context.Output.WriteLine($"DAMAGED  {damage.Image} at offset {damage.Offset}: {damage.Problem}");
            return Task.FromResult(library.Damage.Count > 0 ? ExitCodes.IntegrityViolation : ExitCodes.Ok);
        });

        var restore = new Command("restore", """
            Restore a set from tape images alone (no vault, no database): its manifest and every segment are read from
            the images given, each checked against its record checksum and its hash; a damaged copy falls back to
            another image holding the same segment. Give every image the set needs (for an incremental: its chain).

            Example:
              vault media restore web-2026-11-22 --images /mnt/offsite-a /mnt/offsite-b --to /srv/restore
            """)
        { SetArgument, Images, RestoreTo };
        restore.SetAction(async (parse, ct) =>
        {
            var library = OpenImages(parse);
            var setId = parse.GetValue(SetArgument)!;
            if (!library.Sets.TryGetValue(setId, out var set))
                throw new NotAVaultException($"No image given holds set '{setId}'; 'vault media scan' lists the sets on them.");
            var manifest = Vault.Core.Sets.Manifest.Parse(await library.ReadAsync(Vault.Core.Segments.SegmentHash.Parse(set.ManifestHash), ct));
            var target = parse.GetValue(RestoreTo)!;
            var result = manifest.Kind == "stream" && target == "-"
                ? await Vault.Services.SetRestorer.RestoreStreamAsync(manifest, library, Console.OpenStandardOutput(), ct)
                : await Vault.Services.SetRestorer.RestoreTreeAsync(manifest, library, target, null, ct);
            var text = string.Create(CultureInfo.InvariantCulture, $"restored {setId} from {library.Images} images: {result.Files} files, {result.Bytes / 1e6:N1} MB; {library.Damage.Count} damaged records skipped, {library.Fallbacks} reads fell back to another copy");
            if (Json(parse))
                context.WriteJson(new { result, damage = library.Damage, library.Fallbacks });
            else
                (target == "-" ? context.Error : context.Output).WriteLine(text);
            return ExitCodes.Ok;
        });

        var mediaCommand = new Command("media", "The emulated tapes: list, show, ship, receive, lose, retire, add; scan and restore images on their own.") { list, show, ship, receive, lose, retire, add, scan, restore };

        var sitesList = new Command("list", "The sites: on or off site, courier days, and the media at each.");
        sitesList.SetAction((parse, ct) => WithService(parse, context, ct, async service =>
        {
            var journal = await service.LoadForShowingAsync(ct);
            var policy = journal.State.Policy!;
            var rows = policy.Sites.Select(s => new
            {
                s.Name, s.Offsite, s.CourierDays,
                Media = journal.State.Media.Values.Count(m => m.Site == s.Name && m.State is not (MediumState.Lost or MediumState.Retired)),
                HoldingData = journal.State.Media.Values.Count(m => m.Site == s.Name && m.HoldsData),
            }).ToArray();
            if (Json(parse))
            {
                context.WriteJson(rows);
                return ExitCodes.Ok;
            }

            Tables.Write(context, ["SITE", "WHERE", "COURIER", "MEDIA", "HOLDING DATA"],
                [.. rows.Select(r => new[] { r.Name, r.Offsite ? "off site" : "on site", $"{r.CourierDays} d", r.Media.ToString(CultureInfo.InvariantCulture), r.HoldingData.ToString(CultureInfo.InvariantCulture) })],
                "(no sites)", 3, 4);
            context.Output.WriteLine($"in transit: {journal.State.Media.Values.Count(m => m.State == MediumState.InTransit)}");
            return ExitCodes.Ok;
        }));
        var sites = new Command("sites", "The places media are kept; at an off-site site, its custodian: 'vault site init|credential|serve|verify' (docs/sites.md).") { sitesList };
        sites.Aliases.Add("site");
        foreach (var command in SiteCommands.Create(context))
            sites.Subcommands.Add(command);

        var siteLoss = new Command("site-loss", """
            Lose a site on paper (today, or replayed at --at DATE) and report which sets are still restorable and from
            what (surviving media, or the vault's own store when the primary survives), and the recovery point per
            source. With --execute DIR it restores every set the surviving media hold from the images alone and checks
            every segment and manifest; the result is recorded in the log. Exit 12 when a restore failed.

            Example:
              vault drill site-loss primary --execute /tmp/drill --with-key-loss alice
            """)
        { Site, At, KeyLoss, Execute, Newest };
        siteLoss.SetAction((parse, ct) => WithService(parse, context, ct, async service =>
        {
            var date = DateOf(parse, At, service);
            var progress = Json(parse) ? null : new Progress<string>(line => context.Error.WriteLine("  " + line));
            var outcome = await service.DrillAsync(parse.GetValue(Site)!, date, parse.GetValue(KeyLoss), parse.GetValue(Execute), parse.GetValue(Newest), progress, ct);
            if (Json(parse))
            {
                context.WriteJson(new { outcome.Recorded, outcome.Governance, damage = outcome.Damage, outcome.Fallbacks, alsoLost = outcome.Report.AlsoLost, sets = outcome.Report.Sets });
            }
            else
            {
                var r = outcome.Recorded;
                context.Output.WriteLine($"drill    lose {r.Site} at the end of {r.Date:yyyy-MM-dd}: {r.SetsRestorable} sets restorable, {r.SetsLost} lost{(outcome.Report.VaultStoreSurvives ? " (the vault's own store at the primary survives)" : " (the vault's own store is lost with it)")}");
                if (outcome.Report.AlsoLost.Count > 0)
                    context.Output.WriteLine($"also     lost with {r.Site}: {string.Join(", ", outcome.Report.AlsoLost)} (kept on its disk: give each off-site site a root of its own, docs/rotation.md)");
                foreach (var (source, s) in r.Sources.OrderBy(p => p.Key, StringComparer.Ordinal))
                    context.Output.WriteLine(s.NewestRestorableSet is null
                        ? $"source   {source}: NOTHING restorable"
                        : string.Create(CultureInfo.InvariantCulture, $"source   {source}: newest restorable {s.NewestRestorableSet}, recovery point {s.RecoveryPointHours:N1} h"));
                foreach (var lost in outcome.Report.Sets.Where(s => !s.Restorable).Take(10))
                    context.Output.WriteLine($"lost     {lost.SetId} (sealed {lost.SealedAt:u})");
                if (outcome.Governance is not null)
                    context.Output.WriteLine($"keys     {outcome.Governance}");
                if (r.Executed)
                    context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"restored {r.SetsRestored} sets, {r.BytesRestored / 1e6:N1} MB, from the surviving images alone; {outcome.Fallbacks} damaged copies fell back to another"));
                foreach (var failure in r.Failures)
                    context.Error.WriteLine($"FAILED   {failure}");
            }

            return outcome.Recorded.Failures.Count > 0 ? ExitCodes.Incomplete : ExitCodes.Ok;
        }));
        var drill = new Command("drill", "Recovery drills: can we recover if this happens?") { siteLoss };
        return [rotation, mediaCommand, sites, drill];
    }

    private static string Hours(double hours) => hours < 0 ? "nothing restorable some day" : string.Create(CultureInfo.InvariantCulture, $"{hours:N0} h ({hours / 24:N1} d)");

    private static void PrintPlan(CliContext context, Plan plan)
    {
        context.Output.WriteLine($"rotation plan for {plan.Date:yyyy-MM-dd} ({plan.Date.DayOfWeek})");
        foreach (var w in plan.Writes)
            context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"write    {w.Pool} ({w.Kind.ToString().ToLowerInvariant()}): {w.Sets.Count} sets, {w.Segments} segments, {w.Bytes / 1e6:N1} MB -> load {(w.Media.Count > 0 ? string.Join(", ", w.Media) : "(no blank media!)")}"));
        foreach (var label in plan.Expire)
            context.Output.WriteLine($"expire   {label}");
        foreach (var label in plan.Recycle)
            context.Output.WriteLine($"recycle  {label}");
        foreach (var label in plan.Retire)
            context.Output.WriteLine($"retire   {label}");
        foreach (var move in plan.Shipments)
            context.Output.WriteLine($"ship     {move.Label} {move.From} -> {move.To} (due {move.ArrivesBy:yyyy-MM-dd}): {move.Why}");
        foreach (var move in plan.Recalls)
            context.Output.WriteLine($"recall   {move.Label} {move.From} -> {move.To} (due {move.ArrivesBy:yyyy-MM-dd}): {move.Why}");
        foreach (var label in plan.Arrivals)
            context.Output.WriteLine($"arrive   {label} (confirm with 'vault media receive {label}')");
        foreach (var warning in plan.Warnings)
            context.Output.WriteLine($"warning  [{warning.Code}] {warning.Message}");
        if (plan.Writes.Count + plan.Expire.Count + plan.Shipments.Count + plan.Recalls.Count + plan.Arrivals.Count + plan.Warnings.Count == 0)
            context.Output.WriteLine("nothing to do");
    }

    private static void Report(ParseResult parse, CliContext context, object value, string text)
    {
        if (Json(parse))
            context.WriteJson(value);
        else
            context.Output.WriteLine(text);
    }

    private static readonly Option<FileInfo?> ProposePolicy = new("--policy") { Description = "A policy that loosens protection (fewer or shorter-kept copies, a site or custodian dropped).", HelpName = "FILE" };
    private static readonly Option<string?> ProposeShip = new("--ship") { Description = "Bring this off-site medium home before its need date (with --to).", HelpName = "LABEL" };
    private static readonly Option<string?> ProposeLose = new("--lose") { Description = "Record this medium, still needed, as lost.", HelpName = "LABEL" };
    private static readonly Option<string?> ProposeId = new("--id") { Description = "The request's id (default: rot-DATE-RANDOM).", HelpName = "ID" };
    private static readonly Option<string> ProposeReason = new("--reason") { Description = "Why, for the approvers and the auditors.", Required = true, HelpName = "TEXT" };

    /// <summary>vault rotation propose: a rotation action that loosens protection, as a protected request (quorum, twice the delay, veto).</summary>
    private static Command Propose(CliContext context)
    {
        var propose = new Command("propose", """
            Ask for a rotation action that loosens protection, signed with your approver key (the first approval):
            a policy with fewer or shorter-kept copies or a site or custodian dropped (--policy FILE), bringing an
            off-site medium home before its need date (--ship LABEL --to SITE), or recording a needed medium lost
            (--lose LABEL). Like a deletion it needs the quorum, then twice the cooling-off delay, and any approver can
            veto it; approve with 'vault request approve ID', carry it out with 'vault request execute ID'. A policy
            that only tightens needs none of this: 'vault rotation configure' applies it at once.

            Example:
              vault rotation propose --policy rotation.json --reason "drop offsite-b, contract ended" --key ~/alice.vaultkey
            """)
        { ProposePolicy, ProposeShip, To, ProposeLose, ProposeReason, ProposeId, KeyFiles.Key, KeyFiles.PasswordFile };
        propose.SetAction((parse, ct) => DeletionCommands.RunAsync(parse, context, ct, async (service, vaultId, key) =>
        {
            var journal = await RotationJournal.LoadAsync(service.Log, "operator", null, ct);
            var current = journal.State.Policy ?? throw new VaultConfigurationException("Rotation is not set up in this vault: run 'vault rotation configure' first.");
            string target;
            string? subject = null;
            IReadOnlyList<string> why;
            var (file, ship, lose) = (parse.GetValue(ProposePolicy), parse.GetValue(ProposeShip), parse.GetValue(ProposeLose));
            if ((file is null ? 0 : 1) + (ship is null ? 0 : 1) + (lose is null ? 0 : 1) != 1)
                throw new VaultConfigurationException("Propose exactly one of --policy FILE, --ship LABEL --to SITE, --lose LABEL.");
            if (file is not null)
            {
                var policy = RotationPolicy.Parse(await ReadPolicyAsync(file, ct), file.FullName);
                why = current.Loosening(policy);
                if (why.Count == 0)
                    throw new VaultConfigurationException("This policy does not loosen protection; apply it at once with 'vault rotation configure --policy FILE'. Nothing was signed or recorded.");
                subject = policy.ToJson();
                target = Vault.Core.Governance.RequestTargets.RotationPolicy(subject);
            }
            else if (ship is not null)
            {
                var site = parse.GetValue(To) ?? throw new VaultConfigurationException("--ship needs --to SITE: where the medium goes.");
                var medium = RotationService.Medium(journal, ship);
                if (current.Sites.All(s => s.Name != site))
                    throw new VaultConfigurationException($"There is no site '{site}'.");
                why = [$"{ship} leaves {medium.Site} for {site} before its need date ({medium.NeededUntil:yyyy-MM-dd})"];
                target = Vault.Core.Governance.RequestTargets.RotationShip(ship, site);
            }
            else
            {
                var medium = RotationService.Medium(journal, lose!);
                why = [$"{lose} is recorded lost while needed until {medium.NeededUntil:yyyy-MM-dd}: its copies stop counting"];
                target = Vault.Core.Governance.RequestTargets.RotationLose(lose!);
            }

            var id = Vault.Services.DeletionService.ValidateId(parse.GetValue(ProposeId) ?? $"rot-{context.Clock.GetUtcNow():yyyyMMdd}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3))}");
            string[] targets = [target];
            var seen = await Witnessing.SeenAsync(service.Log, ct);
            var signature = Vault.Core.Governance.Ed25519.Sign(key.PrivateKey, Vault.Core.Governance.SigningPayload.For(vaultId, Vault.Core.Governance.SignedAction.Request, id, Vault.Core.Governance.SigningPayload.TargetsDigest(targets), seen));
            return await service.RequestAsync(new Vault.Core.Governance.RequestDeletion(id, targets, parse.GetValue(ProposeReason)!, key.Approver, signature,
                Vault.Core.Governance.RequestKind.Rotation, Seen: seen, Subject: subject, Loosening: why), ct);
        }));
        return propose;
    }

    private static bool Json(ParseResult parse) => parse.GetValue(GlobalOptions.Json);

    private static DateOnly DateOf(ParseResult parse, Option<string?> option, RotationService service)
    {
        if (parse.GetValue(option) is not { } text)
            return service.Today;
        return DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            ? date
            : throw new VaultConfigurationException($"{option.Name} takes a date as YYYY-MM-DD; got '{text}'.");
    }

    private static async Task<string> ReadPolicyAsync(FileInfo file, CancellationToken ct)
    {
        try
        {
            return await File.ReadAllTextAsync(file.FullName, ct);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new VaultConfigurationException($"There is no policy file {file.FullName}; 'vault rotation configure' without --policy writes the default one to rotation.json in the vault.");
        }
    }

    private static async Task<int> WithService(ParseResult parse, CliContext context, CancellationToken ct, Func<RotationService, Task<int>> act)
    {
        var directory = GlobalOptions.VaultDirectory(parse, context);
        var (manifest, log) = await VaultOpener.OpenAsync(directory, GlobalOptions.PostgresConnection(parse, context), context.Clock, ct);
        await using (log)
        {
            var checkpointer = File.Exists(Path.Combine(directory, VaultOpener.CheckpointKeyFile))
                ? new Vault.Services.Checkpointer(log, manifest.VaultId, VaultOpener.ReadCheckpointKey(directory), context.Clock)
                : null;
            return await act(new RotationService(directory, log, new FileSegmentStore(VaultOpener.SegmentsDirectory(directory)), manifest.VaultId, context.Clock, checkpointer: checkpointer));
        }
    }
}
