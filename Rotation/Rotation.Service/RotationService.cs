using Rotation.Core;
using Vault.Core.Errors;
using Vault.Core.Sets;
using Vault.Services;
using Vault.Storage;
using Vault.Storage.Segments;

namespace Rotation.Service;

/// <summary>What a drill found and did.</summary>
public sealed record DrillOutcome(SiteLossReport Report, DrillRecorded Recorded, IReadOnlyList<TapeDamage> Damage, int Fallbacks, string? Governance, IReadOnlyList<string> Restored);

/// <summary>
/// The rotation against a real vault: policy, media and moves recorded in the log, images written from the vault's
/// store into site directories, and drills that restore from the surviving images.
/// </summary>
public sealed class RotationService(string vaultDirectory, IEventLog log, FileSegmentStore store, string vaultId, TimeProvider clock, string actor = "operator", Checkpointer? checkpointer = null)
{
    public const string PolicyFile = "rotation.json";

    public DateOnly Today => DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);

    public Task<RotationJournal> LoadAsync(DateOnly? upTo, CancellationToken ct) => RotationJournal.LoadAsync(log, actor, upTo, ct);

    /// <summary>Records a policy (the first time, or a change) and labels media until every pool has the count it names.</summary>
    /// <param name="approvedBy">The approved rotation request this carries out (recorded, so replay re-proves it); null for the operator's own change.</param>
    public async Task<(RotationPolicy Policy, int Labeled)> ConfigureAsync(RotationPolicy policy, CancellationToken ct, string? approvedBy = null)
    {
        if (policy.Problems() is { Count: > 0 } problems)
            throw new RotationPolicyException("the given policy", problems);
        var journal = await LoadAsync(null, ct);
        var date = Today;
        var configured = new RotationConfigured(policy, date, approvedBy);
        if (approvedBy is null && journal.State.Policy is { } loosened && loosened.Loosening(policy) is { Count: > 0 } why)
            throw new GovernanceRefusedException(new Vault.Core.Governance.Refusal(Vault.Core.Governance.RefusalCode.NoQuorum,
                $"This policy loosens protection ({string.Join("; ", why)}), so it needs the quorum: propose it with 'vault rotation propose --policy FILE --reason TEXT --key FILE'."), recorded: false);
        if (journal.State.Policy is { } current)
        {
            foreach (var pool in current.Pools.Where(p => policy.Pools.All(q => q.Name != p.Name) && journal.State.Media.Values.Any(m => m.Pool == p.Name && m.HoldsData)))
                throw new VaultConfigurationException($"Pool {pool.Name} still has media holding data; keep it in the policy until they expire.");
        }

        await journal.RecordAsync(configured, ct);
        var labeled = 0;
        foreach (var pool in policy.Pools)
        {
            var have = journal.State.Media.Values.Count(m => m.Pool == pool.Name && m.State is not (MediumState.Retired or MediumState.Lost));
            for (; have < pool.Media; have++, labeled++)
                await journal.RecordAsync(new MediumLabeled(journal.State.NextLabel(pool), pool.Name, pool.CapacityBytes, pool.MaxPasses, policy.DriveSite, date), ct);
        }

        new SiteLayout(vaultDirectory, policy).Create();
        await File.WriteAllTextAsync(Path.Combine(vaultDirectory, PolicyFile), policy.ToJson() + "\n", ct);
        return (policy, labeled);
    }

    public async Task<(RotationJournal Journal, RotationPolicy Policy)> RequireAsync(DateOnly? upTo, CancellationToken ct)
    {
        var journal = await LoadAsync(upTo, ct);
        return (journal, journal.State.Policy ?? throw new VaultConfigurationException("Rotation is not set up in this vault: run 'vault rotation configure' first."));
    }

    /// <summary>The rotation as of now for showing it (media lists, plans): from the fold cached beside the read models, brought up to the head.</summary>
    public async Task<RotationJournal> LoadForShowingAsync(CancellationToken ct)
    {
        var journal = await RotationJournal.LoadForShowingAsync(log, actor, ct);
        return journal.State.Policy is null
            ? throw new VaultConfigurationException("Rotation is not set up in this vault: run 'vault rotation configure' first.")
            : journal;
    }

    /// <summary>What <paramref name="date"/> would do, shown from the read models and the cached rotation fold; 'rotation run' decides from the log.</summary>
    public async Task<Plan> PlanAsync(DateOnly date, CancellationToken ct)
    {
        var journal = await LoadForShowingAsync(ct);
        return Planner.Plan(journal.State, await SetCatalog.ForPlanAsync(log, store, journal.State, date, ct), date);
    }

    /// <summary>Tonight's run: expiries, recycling, arrivals and shipments when <paramref name="courier"/> (the courier comes tonight), and the writes.</summary>
    public async Task<NightlySummary> RunAsync(DateOnly date, bool courier, bool labelWhenExhausted, CancellationToken ct)
    {
        // A run erases, recycles and ships: it acts on today by the injected clock only, never on a date it is told.
        // (A future date would expire every medium at once; 'rotation plan --date' shows any day without acting.)
        if (date != Today)
            throw new VaultConfigurationException($"'rotation run' acts on today ({Today:yyyy-MM-dd}) only, not on {date:yyyy-MM-dd}; use 'vault rotation plan --date {date:yyyy-MM-dd}' to see what that day would do. Nothing was changed.");
        var (journal, policy) = await RequireAsync(null, ct);
        var sets = await SetCatalog.BuildAsync(log, store, ct);
        // Every medium written tonight carries the checkpoint taken now and the genesis it descends from.
        Vault.Core.Checkpoints.CheckpointCopy? copy = null;
        if (checkpointer is not null)
        {
            await checkpointer.AppendAsync(ct);
            copy = await Checkpointer.CopyAsync(log, ct);
        }

        // The custodians' log copies first, so the checkpoint in tonight's images is one they can check.
        var early = await SyncLogCopiesAsync(new SiteLayout(vaultDirectory, policy), policy, log, ct);

        var layout = new SiteLayout(vaultDirectory, policy);
        var effects = new ImageEffects(layout, store, vaultId, policy.DriveSite, copy);
        var suffix = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3));
        var summary = await NightlyRun.RunAsync(journal.State, sets, date, effects, e => journal.AppendAsync(e, ct), courier, labelWhenExhausted,
            pool => $"{pool}-{date:yyyyMMdd}-{suffix}", ct);
        if (early.Count > 0 && checkpointer is null)
            summary = summary with { Skipped = [.. summary.Skipped, .. early] };
        if (journal.Findings.Count > 0)
            summary = summary with { Skipped = [.. summary.Skipped, .. journal.Findings.Select(f => new PlanWarning("unproved-record",
                $"Position {f.Position} of the log: {f.Detail}. Someone wrote the rotation's history behind the vault's back; run 'vault log verify'."))] };
        if (checkpointer is not null)
        {
            // Then one over tonight's own records, copied to every site's root and every custodian.
            await checkpointer.AppendAsync(ct);
            if (await Checkpointer.CopyAsync(log, ct) is { } latest)
            {
                var warnings = await SyncLogCopiesAsync(layout, policy, log, ct);
                warnings = [.. warnings, .. await CopyToSitesAsync(layout, policy, latest, ct)];
                if (warnings.Count > 0)
                    summary = summary with { Skipped = [.. summary.Skipped, .. warnings] };
            }
        }

        return summary;
    }

    /// <summary>
    /// The primary keeps each custodian's journal head (sites/SITE.journal-head, "COUNT HASH") as an outside witness:
    /// the journal is chained, so a line can be hidden only by cutting the journal short or rewriting and re-chaining
    /// it. Each run reads the journal back and checks that the line it saw last is still there, with the same hash.
    /// </summary>
    public static async Task<PlanWarning?> CheckJournalHeadAsync(SiteLayout layout, string site, Custodians.CustodianClient client, CancellationToken ct)
    {
        if (client.JournalHead is not { } head)
            return null;
        Directory.CreateDirectory(layout.Root);
        var path = Path.Combine(layout.Root, site + ".journal-head");
        if (File.Exists(path) && File.ReadAllText(path).Trim().Split(' ') is [var count, var hash]
            && long.TryParse(count, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seen) && seen > 0)
        {
            string? found = null;
            if (head.Count >= seen)
            {
                using var reader = new StringReader(await client.JournalAsync(ct));
                for (long n = 1; reader.ReadLine() is { } line; n++)
                {
                    if (n == seen)
                    {
                        found = line.Split(' ', 2)[0];
                        break;
                    }
                }
            }

            if (!string.Equals(found, hash, StringComparison.OrdinalIgnoreCase))
            {
                return new PlanWarning("custodian-journal-rewritten",
                    $"The journal of {site}'s custodian no longer holds line {seen} as this primary saw it ({hash}; now {found ?? $"absent, {head.Count} lines"}): it was cut short or rewritten at the site. Ask the site to run 'vault site verify' and keep its journal for examination.");
            }
        }

        File.WriteAllText(path, $"{head.Count} {head.Hash}\n");
        return null;
    }

    /// <summary>
    /// Leaves the checkpoint at every site: checkpoint.json at a directory site's root, a deposit at a custodian (which
    /// keeps every one and refuses one that contradicts a kept one); 'vault log verify' compares with them. A custodian
    /// that cannot be reached is a warning: the next run leaves a newer one.
    /// </summary>
    public static async Task<IReadOnlyList<PlanWarning>> CopyToSitesAsync(SiteLayout layout, RotationPolicy policy, Vault.Core.Checkpoints.CheckpointCopy copy, CancellationToken ct)
    {
        var warnings = new List<PlanWarning>();
        foreach (var site in policy.Sites)
        {
            if (layout.CustodianOf(site.Name) is { } custodian)
            {
                using var client = Custodians.CustodianClient.For(custodian);
                try
                {
                    await client.PutCheckpointAsync(copy, ct);
                    if (await CheckJournalHeadAsync(layout, site.Name, client, ct) is { } rewritten)
                        warnings.Add(rewritten);
                }
                catch (Custodians.CustodianUnavailableException ex)
                {
                    warnings.Add(new PlanWarning("checkpoint-not-deposited", ex.Message));
                }
                catch (Custodians.CustodianRefusedException ex)
                {
                    warnings.Add(new PlanWarning("checkpoint-refused", $"{ex.Message} Run 'vault log verify': this log may have been rewritten."));
                }
            }
            else
            {
                Checkpointer.WriteCopy(copy, Path.Combine(layout.DirectoryOf(site.Name), Vault.Core.Checkpoints.CheckpointCopy.FileName));
            }
        }

        return warnings;
    }

    /// <summary>
    /// Extends each custodian's copy of the log up to this log's head (before the checkpoint is left there, which the
    /// custodian then checks against its copy). A copy whose last record differs from this log's record at that
    /// position means one of the two was rewritten: a warning naming it, and nothing sent.
    /// </summary>
    public static async Task<IReadOnlyList<PlanWarning>> SyncLogCopiesAsync(SiteLayout layout, RotationPolicy policy, IEventLog log, CancellationToken ct)
    {
        var warnings = new List<PlanWarning>();
        var head = await log.ReadHeadAsync(ct);
        foreach (var site in policy.Sites)
        {
            if (layout.CustodianOf(site.Name) is not { } custodian)
                continue;
            using var client = Custodians.CustodianClient.For(custodian);
            try
            {
                var theirs = await client.LogHeadAsync(ct);
                if (theirs.Count > head.Position)
                {
                    warnings.Add(new PlanWarning("log-diverged", $"The custodian of {site.Name} keeps {theirs.Count} records of this vault's log, more than its {head.Position}: this log lost records (or was rebuilt short). Compare with 'vault log verify'."));
                    continue;
                }

                if (theirs.Count > 0)
                {
                    var ours = await log.ReadAllAsync(theirs.Count, ct).FirstAsync(ct);
                    if (Convert.ToHexStringLower(ours.Hash) != theirs.Head)
                    {
                        warnings.Add(new PlanWarning("log-diverged", $"The custodian of {site.Name} keeps record {theirs.Count} with hash {theirs.Head}, and this log has {Convert.ToHexStringLower(ours.Hash)} there: one of them was rewritten. Nothing was sent; run 'vault log verify'."));
                        continue;
                    }
                }

                if (theirs.Count < head.Position)
                    await client.AppendLogAsync(theirs.Count + 1, log.ReadAllAsync(theirs.Count + 1, ct).TakeWhile(r => r.Position <= head.Position), ct);
            }
            catch (Custodians.CustodianUnavailableException ex)
            {
                warnings.Add(new PlanWarning("log-not-copied", ex.Message));
            }
            catch (Custodians.CustodianRefusedException ex)
            {
                warnings.Add(new PlanWarning("log-diverged", $"{ex.Message} Run 'vault log verify'."));
            }
        }

        return warnings;
    }

    /// <summary>The latest checkpoint each custodian keeps: (site, copy, or the problem reaching it).</summary>
    public static async Task<IReadOnlyList<(string Site, Vault.Core.Checkpoints.CheckpointCopy? Copy, string? Problem)>> CustodianCopiesAsync(string vaultDirectory, RotationPolicy policy, CancellationToken ct)
    {
        var layout = new SiteLayout(vaultDirectory, policy);
        var copies = new List<(string, Vault.Core.Checkpoints.CheckpointCopy?, string?)>();
        foreach (var site in policy.Sites)
        {
            if (layout.CustodianOf(site.Name) is not { } custodian)
                continue;
            try
            {
                using var client = Custodians.CustodianClient.For(custodian);
                copies.Add((site.Name, await client.LatestCheckpointAsync(ct), null));
            }
            catch (Vault.Core.Errors.VaultException ex)
            {
                copies.Add((site.Name, null, ex.Message));
            }
        }

        return copies;
    }

    /// <summary>Every checkpoint copy at the site roots: (site, path).</summary>
    public static IEnumerable<(string Site, string Path)> SiteCopies(string vaultDirectory, RotationPolicy policy)
    {
        var layout = new SiteLayout(vaultDirectory, policy);
        foreach (var site in policy.Sites.Where(s => !s.HasCustodian))
        {
            var path = Path.Combine(layout.DirectoryOf(site.Name), Vault.Core.Checkpoints.CheckpointCopy.FileName);
            if (File.Exists(path))
                yield return (site.Name, path);
        }
    }

    /// <summary>Ships a medium (by default to where its pool is kept, or back to the drive's site when it has expired).</summary>
    public async Task<MediumShipped> ShipAsync(string label, string? to, CancellationToken ct, string? approvedBy = null)
    {
        var (journal, policy) = await RequireAsync(null, ct);
        var medium = Medium(journal, label);
        if (approvedBy is null && (to ?? policy.Pool(medium.Pool).Site) is var whereTo && RotationGuard.BringsHomeEarly(policy, medium, whereTo))
        {
            throw new GovernanceRefusedException(new Vault.Core.Governance.Refusal(Vault.Core.Governance.RefusalCode.NoQuorum,
                $"{label} is off site at {medium.Site} and needed until {medium.NeededUntil:yyyy-MM-dd}; bringing it home early needs the quorum: 'vault rotation propose --ship {label} --to {whereTo} --reason TEXT --key FILE'."), recorded: false);
        }

        if (medium.Site is null)
            throw new StorageRefusedException($"{label} is {Describe(medium)}; only a medium at a site can be shipped.");
        var destination = to ?? (medium.IsExpired ? policy.DriveSite : policy.Pool(medium.Pool).Site);
        if (policy.Sites.All(s => s.Name != destination))
            throw new VaultConfigurationException($"There is no site '{destination}' ({string.Join(", ", policy.Sites.Select(s => s.Name))}).");
        if (destination == medium.Site)
            throw new StorageRefusedException($"{label} is already at {destination}.");
        var courierDays = Math.Max(policy.Site(destination).CourierDays, policy.Site(medium.Site).CourierDays);
        var shipped = new MediumShipped(label, medium.Site, destination, Today, Today.AddDays(Math.Max(courierDays, 1)), approvedBy);
        var layout = new SiteLayout(vaultDirectory, policy);
        var effects = new ImageEffects(layout, store, vaultId, policy.DriveSite);
        if (approvedBy is not null && layout.CustodianOf(medium.Site) is not null && RotationGuard.BringsHomeEarly(policy, medium, destination))
        {
            // The custodian proves the request from its own log copy: send it the records it lacks first.
            await SyncLogCopiesAsync(layout, policy, log, ct);
            await effects.BringBackAsync(medium, medium.Site, approvedBy, ct);
        }
        else
        {
            await effects.ShipAsync(medium, medium.Site, destination, shipped.ArrivesBy, ct);
        }

        await journal.RecordAsync(shipped, ct);
        return shipped;
    }

    public async Task<MediumReceived> ReceiveAsync(string label, CancellationToken ct)
    {
        var (journal, policy) = await RequireAsync(null, ct);
        var medium = Medium(journal, label);
        if (medium.State != MediumState.InTransit)
            throw new StorageRefusedException($"{label} is {Describe(medium)}, not in transit; there is nothing to receive.");
        await new ImageEffects(new SiteLayout(vaultDirectory, policy), store, vaultId, policy.DriveSite).ReceiveAsync(medium, medium.Destination!, ct);
        var received = new MediumReceived(label, medium.Destination!, Today);
        await journal.RecordAsync(received, ct);
        return received;
    }

    public async Task<IRotationEvent> RemoveAsync(string label, bool lost, string reason, CancellationToken ct, string? approvedBy = null)
    {
        var (journal, _) = await RequireAsync(null, ct);
        var medium = Medium(journal, label);
        if (medium.State is MediumState.Lost or MediumState.Retired)
            throw new StorageRefusedException($"{label} is already {Describe(medium)}.");
        IRotationEvent e = lost ? new MediumLost(label, Today, reason, approvedBy) : new MediumRetired(label, Today, reason);
        if (approvedBy is null && RotationGuard.Check(journal.State, e, Today) is not null)
        {
            if (!lost)
                throw new StorageRefusedException($"{label} holds data needed until {medium.NeededUntil:yyyy-MM-dd}; retire it after it expires (or record it lost if it is gone).");
            throw new GovernanceRefusedException(new Vault.Core.Governance.Refusal(Vault.Core.Governance.RefusalCode.NoQuorum,
                $"{label} holds data needed until {medium.NeededUntil:yyyy-MM-dd}; recording it lost (its copies then stop counting) needs the quorum: 'vault rotation propose --lose {label} --reason TEXT --key FILE'."), recorded: false);
        }

        await journal.RecordAsync(e, ct);
        return e;
    }

    public async Task<IReadOnlyList<string>> AddMediaAsync(string poolName, int count, CancellationToken ct)
    {
        var (journal, policy) = await RequireAsync(null, ct);
        var pool = policy.Pools.FirstOrDefault(p => p.Name == poolName) ?? throw new VaultConfigurationException($"There is no pool '{poolName}' ({string.Join(", ", policy.Pools.Select(p => p.Name))}).");
        var labels = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var label = journal.State.NextLabel(pool);
            await journal.RecordAsync(new MediumLabeled(label, pool.Name, pool.CapacityBytes, pool.MaxPasses, policy.DriveSite, Today), ct);
            labels.Add(label);
        }

        return labels;
    }

    /// <summary>
    /// Loses <paramref name="site"/> on paper at <paramref name="date"/> (replaying the log up to then) and reports what
    /// survives; with <paramref name="restoreTo"/>, restores every set restorable from surviving media from the images
    /// themselves (newest per source only with <paramref name="newestOnly"/>), and records the drill.
    /// </summary>
    public async Task<DrillOutcome> DrillAsync(string site, DateOnly date, string? keyLost, string? restoreTo, bool newestOnly, IProgress<string>? progress, CancellationToken ct)
    {
        var (journal, policy) = await RequireAsync(date, ct);
        if (policy.Sites.All(s => s.Name != site))
            throw new VaultConfigurationException($"There is no site '{site}' ({string.Join(", ", policy.Sites.Select(s => s.Name))}).");
        if (restoreTo is not null && date != Today)
            throw new VaultConfigurationException("--execute restores from the images as they are today; drop --at to run it, or leave out --execute to replay the past on paper.");
        var sets = (await SetCatalog.BuildAsync(log, store, ct)).Where(s => s.SealedOn <= date).ToArray();
        var report = SiteLoss.Evaluate(journal.State, sets, policy, site, date, physical: true);
        string? governance = null;
        if (keyLost is not null)
        {
            var (_, rules) = await GovernanceReader.ReadAsync(log, ct);
            if (rules.Find(keyLost) is null)
                throw new VaultConfigurationException($"'{keyLost}' is not an approver of this vault.");
            var left = rules.Approvers.Count - 1;
            governance = left >= rules.Quorum
                ? $"{keyLost}'s key is lost with the site: {left} approvers remain for a quorum of {rules.Quorum}, so deletions and governance changes still work; replace the key with 'vault governance propose --remove-approver {keyLost} --add-approver ...'. Restores need no key."
                : $"{keyLost}'s key is lost with the site: only {left} approvers remain for a quorum of {rules.Quorum}; nothing can be deleted and the rules cannot change any more (safe, but stuck). Restores need no key.";
        }

        var restored = new List<string>();
        var failures = new List<string>();
        long bytes = 0;
        TapeLibrary? library = null;
        string? fetched = null;
        try
        {
        if (restoreTo is not null)
        {
            if (Directory.Exists(restoreTo) && Directory.EnumerateFileSystemEntries(restoreTo).Any())
                throw new VaultConfigurationException($"{restoreTo} is not empty; a drill restores into a new or empty directory.");
            var layout = new SiteLayout(vaultDirectory, policy);
            var wanted = report.Sets.Where(s => s.FromMedia is not null).ToList();
            if (newestOnly)
                wanted = [.. wanted.GroupBy(s => s.Source).Select(g => g.MaxBy(s => s.SealedAt)!)];
            progress?.Report($"reading the surviving images ({wanted.Count} sets to restore)");
            var lostWith = SiteLoss.LostWith(policy, site, physical: true);
            fetched = Directory.CreateTempSubdirectory("vault-drill-images-").FullName;
            var expected = journal.State.Media.Values.Where(m => m.HoldsData && m.ImageSha256 is not null).ToDictionary(m => m.Label, m => (m.WriteId!, m.ImageSha256!), StringComparer.Ordinal);
            var fetchProblems = await FetchFromCustodiansAsync(layout, policy.Sites.Where(s => !lostWith.Sites.Contains(s.Name)).Select(s => s.Name), expected, fetched, progress, ct);
            failures.AddRange(fetchProblems);
            library = TapeLibrary.Open(layout.SurvivingDirectories(lostWith).Concat(Directory.GetDirectories(fetched)));
            var byId = sets.ToDictionary(s => s.SetId, StringComparer.Ordinal);
            foreach (var survival in wanted)
            {
                var set = byId[survival.SetId];
                try
                {
                    var manifest = Manifest.Parse(await library.ReadAsync(Vault.Core.Segments.SegmentHash.Parse(set.Manifest.Hash), ct));
                    var target = Path.Combine(restoreTo, set.SetId);
                    RestoreResult result;
                    if (manifest.Kind == "stream")
                    {
                        Directory.CreateDirectory(restoreTo);
                        await using var output = new FileStream(target + ".stream", FileMode.CreateNew, FileAccess.Write);
                        result = await SetRestorer.RestoreStreamAsync(manifest, library, output, ct);
                    }
                    else
                    {
                        result = await SetRestorer.RestoreTreeAsync(manifest, library, target, null, ct);
                    }

                    bytes += result.Bytes;
                    restored.Add(set.SetId);
                    progress?.Report($"restored {set.SetId}: {result.Files} files, {result.Bytes} bytes");
                }
                catch (Exception ex) when (ex is VaultException or IOException or System.Text.Json.JsonException)
                {
                    failures.Add($"{set.SetId}: {ex.Message}");
                }
            }
        }

        }
        finally
        {
            if (fetched is not null)
                Directory.Delete(fetched, recursive: true);
        }

        var recorded = new DrillRecorded(site, date, keyLost, report.Sets.Count(s => s.Restorable), report.Sets.Count(s => !s.Restorable),
            report.Sources.ToDictionary(p => p.Key, p => new DrillSource(p.Value.NewestRestorableSet, report.Sets.FirstOrDefault(s => s.SetId == p.Value.NewestRestorableSet)?.SealedAt, p.Value.RecoveryPointHours)),
            restoreTo is not null, restored.Count, bytes, failures);
        var current = await LoadAsync(null, ct);
        await current.RecordAsync(recorded, ct);
        return new DrillOutcome(report, recorded, library?.Damage ?? [], library?.Fallbacks ?? 0, governance, restored);
    }

    /// <summary>
    /// Reads back into <paramref name="target"/> every image the custodians of these sites hold, each checked against
    /// the SHA-256 expected of it as it arrives (the log's, when <paramref name="expected"/> names the label; otherwise
    /// the one the custodian accepted it with). Returns the problems (a custodian down, an image that is not the one
    /// written); what could be read is there.
    /// </summary>
    public static async Task<IReadOnlyList<string>> FetchFromCustodiansAsync(SiteLayout layout, IEnumerable<string> sites, IReadOnlyDictionary<string, (string WriteId, string Sha256)>? expected, string target, IProgress<string>? progress, CancellationToken ct)
    {
        var problems = new List<string>();
        foreach (var site in sites)
        {
            if (layout.CustodianOf(site) is not { } custodian)
                continue;
            using var client = Custodians.CustodianClient.For(custodian);
            try
            {
                var directory = Path.Combine(target, site);
                Directory.CreateDirectory(directory);
                foreach (var entry in await client.ListAsync(ct))
                {
                    var facts = entry.Facts;
                    if (expected is not null)
                    {
                        if (!expected.TryGetValue(facts.Label, out var written) || written.WriteId != facts.WriteId)
                            continue; // not a write the log counts on (an old one, or the log was rewritten): the drill does not use it
                        if (written.Sha256 != facts.Sha256)
                        {
                            problems.Add($"{facts.Label} at {site}: the custodian holds SHA-256 {facts.Sha256}, the log recorded {written.Sha256} at write");
                            continue;
                        }
                    }

                    var bytes = await client.DownloadAsync(facts.Label, facts.Sha256, Path.Combine(directory, facts.Label + SiteLayout.Extension), ct);
                    progress?.Report($"read {facts.Label} back from the custodian of {site} ({bytes} bytes, SHA-256 checked)");
                }
            }
            catch (Vault.Core.Errors.VaultException ex)
            {
                problems.Add($"{site}: {ex.Message}");
            }
        }

        return problems;
    }

    /// <summary>The rotation action a request names: (kind, label or policy digest, site), from its one target.</summary>
    public static (string Action, string Subject, string? Site) ParseTarget(string target)
    {
        var parts = target.Split(':');
        return parts switch
        {
            ["rotation", "policy", var digest] => ("policy", digest, null),
            ["rotation", "ship", var label, var site] => ("ship", label, site),
            ["rotation", "lose", var label] => ("lose", label, null),
            _ => throw new VaultConfigurationException($"'{target}' is not a rotation request target."),
        };
    }

    /// <summary>Has the approved rotation request already had its effect (a run cut short before it was marked done)?</summary>
    public async Task<bool> AppliedAsync(Vault.Core.Governance.DeletionRequestState request, CancellationToken ct)
    {
        var (journal, policy) = await RequireAsync(null, ct);
        var (action, subject, site) = ParseTarget(request.Targets[0]);
        return action switch
        {
            "policy" => policy.ToJson() == RotationPolicy.Parse(request.Subject!, $"request {request.RequestId}").ToJson(),
            "ship" => Medium(journal, subject) is { } m && (m.Destination == site || m.Site == site),
            _ => Medium(journal, subject).State == MediumState.Lost,
        };
    }

    /// <summary>Carries out an approved rotation request: the action its signers approved, without the checks that made it need them.</summary>
    public async Task ApplyAsync(Vault.Core.Governance.DeletionRequestState request, CancellationToken ct)
    {
        var (action, subject, site) = ParseTarget(request.Targets[0]);
        switch (action)
        {
            case "policy":
                await ConfigureAsync(RotationPolicy.Parse(request.Subject!, $"request {request.RequestId}"), ct, approvedBy: request.RequestId);
                break;
            case "ship":
                await ShipAsync(subject, site, ct, approvedBy: request.RequestId);
                break;
            default:
                await RemoveAsync(subject, lost: true, $"approved by request {request.RequestId}", ct, approvedBy: request.RequestId);
                break;
        }
    }

    public static MediumInfo Medium(RotationJournal journal, string label) =>
        journal.State.Media.GetValueOrDefault(label) ?? throw new NotAVaultException($"There is no medium '{label}'; 'vault media list' shows them.");

    public static string Describe(MediumInfo m) => m.State switch
    {
        MediumState.InTransit => $"in transit to {m.Destination} (due {m.ArrivesBy:yyyy-MM-dd})",
        MediumState.Lost => "lost",
        MediumState.Retired => "retired",
        _ => $"{m.State.ToString().ToLowerInvariant()} at {m.Site}",
    };
}
