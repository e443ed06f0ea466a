using System.CommandLine;
using System.Globalization;
using Rotation.Service;
using Rotation.Service.Custodians;
using Vault.Core.Checkpoints;
using Vault.Core.Errors;
using Vault.Core.Log;
using Vault.Core.Segments;
using Vault.Core.Sets;
using Vault.Core.Vaults;
using Vault.Services;
using Vault.Storage;
using Vault.Storage.Segments;
using Vault.Storage.Sqlite;

namespace Vault.Ops.Commands;

/// <summary>
/// vault recover: a new primary from what the site custodians kept after the old one is gone: the log from their
/// copies (chain re-checked record by record, and every custodian's signed checkpoint checked against it), the
/// segments of every sealed set from the images they hold (each image and segment checked against its hash).
/// </summary>
public static class RecoverCommand
{
    private static readonly Option<string[]> Sites = new("--site")
    {
        Description = "A custodian, as URL=TOKEN-FILE (its address, and the file with the credential it issued). Repeat for each surviving site.",
        Required = true,
        AllowMultipleArgumentsPerToken = false,
        HelpName = "URL=FILE",
    };

    private static readonly Option<string> To = new("--to") { Description = "The new vault directory (new or empty).", Required = true, HelpName = "DIR" };
    private static readonly Option<FileInfo?> CheckpointKey = new("--checkpoint-key") { Description = "The vault's checkpoint key (checkpoint.key from your offline copy), so the new primary signs checkpoints again.", HelpName = "FILE" };

    public static Command Create(CliContext context)
    {
        var command = new Command("recover", """
            Rebuild a lost primary from the surviving site custodians into a new directory: the log from the longest
            copy a custodian keeps (every record re-hashed and chained; every custodian's signed checkpoint must match
            it), then the segments of every sealed set from the images they hold (each image checked against its
            SHA-256 as it arrives, each segment against its hash). Sets whose segments no image holds are named. The
            rebuilt vault's rotation goes on from its log: media that were at the old primary are named to record as lost.
            Exit 0 when every sealed set is whole, 12 when some are not, 10 when the copies contradict each other.

            Example:
              vault recover --site https://vault-a.example:7401=/etc/vault/offsite-a.token \
                            --site https://vault-b.example:7401=/etc/vault/offsite-b.token --to /srv/vault-new
            """)
        { Sites, To, CheckpointKey };
        command.SetAction((parse, ct) => RunAsync(parse, context, ct));
        return command;
    }

    private sealed record Custodian(string Name, CustodianClient Client, LogCopyHead Head, CheckpointCopy? Checkpoint);

    private static async Task<int> RunAsync(ParseResult parse, CliContext context, CancellationToken ct)
    {
        var target = Path.GetFullPath(parse.GetValue(To)!);
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
            throw new VaultConfigurationException($"{target} is not empty; a vault is recovered into a new or empty directory.");
        var started = context.Clock.GetTimestamp();
        var custodians = new List<Custodian>();
        try
        {
            foreach (var spec in parse.GetValue(Sites)!)
            {
                var at = spec.LastIndexOf('=');
                if (at < 1 || !Uri.TryCreate(spec[..at], UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
                    throw new VaultConfigurationException($"--site '{spec}' is not URL=TOKEN-FILE (e.g. http://vault-a:7401=/etc/vault/offsite-a.token).");
                var client = CustodianClient.For(new SiteDefinitionAccess(url.Authority, url, spec[(at + 1)..]));
                custodians.Add(new Custodian(url.Authority, client, await client.LogHeadAsync(ct), await client.LatestCheckpointAsync(ct)));
            }

            var source = custodians.MaxBy(c => c.Head.Count)!;
            if (source.Head.Count == 0)
                throw new NotAVaultException("No custodian given keeps a copy of the log; there is nothing to rebuild from (the images alone still restore with 'vault media restore --images').");
            Directory.CreateDirectory(target);
            context.Error.WriteLine($"recover: reading {source.Head.Count:N0} log records from the custodian at {source.Name}");
            long imported;
            await using (var backend = await SqliteLogBackend.OpenAsync(Path.Combine(target, VaultOpener.SqliteFile), create: true, ct))
                imported = await backend.ImportAsync(source.Client.ReadLogAsync(ct), new Progress<long>(n => { if (n % 100_000 == 0) context.Error.WriteLine($"recover: {n:N0} records written"); }), ct);

            await using var backendForRead = await SqliteLogBackend.OpenAsync(Path.Combine(target, VaultOpener.SqliteFile), create: false, ct);
            var log = new Vault.Storage.Log.GroupCommitEventLog(backendForRead, new Vault.Storage.Log.GroupCommitOptions { Clock = context.Clock });
            var genesisRecord = await log.ReadAllAsync(1, ct).FirstAsync(ct);
            var genesis = VaultCreated.From(genesisRecord) ?? throw new StorageCorruptException("The first record of the log copy is not a vault's genesis.");

            // Every custodian's checkpoint must be this vault's, signed, and agree with the log copy that was read.
            var verified = new List<string>();
            var contradictions = new List<string>();
            foreach (var c in custodians)
            {
                if (c.Checkpoint is not { } copy)
                {
                    contradictions.Add($"{c.Name} keeps no checkpoint");
                    continue;
                }

                if (!copy.IsSignedByItsGenesis() || copy.GenesisHash != Convert.ToHexStringLower(genesisRecord.Hash) || copy.GenesisPayload != Convert.ToBase64String(genesisRecord.Payload))
                {
                    contradictions.Add($"{c.Name}'s checkpoint is not signed for this log's genesis");
                    continue;
                }

                if (copy.Checkpoint.Position > imported)
                {
                    contradictions.Add($"{c.Name}'s checkpoint covers {copy.Checkpoint.Position} records, more than the {imported} of the longest log copy");
                    continue;
                }

                var at = await log.ReadAllAsync(copy.Checkpoint.Position, ct).FirstAsync(ct);
                if (Convert.ToHexStringLower(at.Hash) != copy.Checkpoint.Head)
                    contradictions.Add($"{c.Name}'s checkpoint says record {copy.Checkpoint.Position} has hash {copy.Checkpoint.Head}; the log copy has {Convert.ToHexStringLower(at.Hash)}");
                else
                    verified.Add($"{c.Name} at {copy.Checkpoint.Position}");
            }

            if (verified.Count == 0 || contradictions.Any(x => !x.EndsWith("keeps no checkpoint", StringComparison.Ordinal)))
            {
                await log.DisposeAsync();
                Directory.Delete(target, recursive: true);
                var message = $"The custodians' copies do not agree ({string.Join("; ", contradictions.DefaultIfEmpty("no checkpoint verifies the log copy"))}); nothing was kept in {target}. Compare their journals and checkpoints before trusting any of them.";
                if (parse.GetValue(GlobalOptions.Json))
                    context.WriteJson(new { error = new { kind = "integrity", message, exitCode = ExitCodes.IntegrityViolation } });
                context.Error.WriteLine($"vault: {message}");
                return ExitCodes.IntegrityViolation;
            }

            new VaultManifest(VaultManifest.CurrentFormat, genesis.VaultId, genesis.CreatedAt, new LogLocation(LogLocation.Sqlite, File: VaultOpener.SqliteFile), Convert.ToHexStringLower(genesisRecord.Hash)).Write(target);
            if (parse.GetValue(CheckpointKey) is { } keyFile)
            {
                var key = Convert.FromHexString(File.ReadAllText(keyFile.FullName).Trim());
                if (genesis.CheckpointKey is null || Convert.ToHexStringLower(Vault.Core.Governance.Ed25519.PublicKeyOf(key)) != genesis.CheckpointKey.ToLowerInvariant())
                    throw new Vault.Core.Governance.KeyFileException($"{keyFile.FullName} is not this vault's checkpoint key (its public half is not the one in the genesis).");
                VaultOpener.WriteCheckpointKey(target, key);
            }

            // The segments: images read back from one custodian after another (each checked against its SHA-256 as it
            // arrives) until every sealed set is whole, then each set's segments into the new store.
            var images = Path.Combine(target, ".recover-images");
            var fetchProblems = new List<string>();
            var sealedSets = (await new BackupSets(log).ListAsync(ct)).Where(s => s.Status == SetStatus.Sealed).Select(s => s.Sealed!).ToArray();
            var store = new FileSegmentStore(VaultOpener.SegmentsDirectory(target));
            var whole = new HashSet<string>(StringComparer.Ordinal);
            var incomplete = new Dictionary<string, string>(StringComparer.Ordinal);
            long imageBytes = 0, segments = 0;
            foreach (var (c, i) in custodians.Select((c, i) => (c, i)))
            {
                if (whole.Count == sealedSets.Length)
                    break;
                var directory = Path.Combine(images, i.ToString(CultureInfo.InvariantCulture));
                Directory.CreateDirectory(directory);
                foreach (var entry in await c.Client.ListAsync(ct))
                {
                    try
                    {
                        imageBytes += await c.Client.DownloadAsync(entry.Facts.Label, entry.Facts.Sha256, Path.Combine(directory, entry.Facts.Label + SiteLayout.Extension), ct);
                    }
                    catch (VaultException ex)
                    {
                        fetchProblems.Add($"{c.Name}: {ex.Message}");
                    }
                }

                var library = TapeLibrary.Open([directory]);
                foreach (var set in sealedSets.Where(s => !whole.Contains(s.SetId)))
                {
                    try
                    {
                        var manifestHash = SegmentHash.Parse(set.ManifestHash);
                        var manifestBytes = await library.ReadAsync(manifestHash, ct);
                        await store.PutAsync(manifestHash, manifestBytes, ct);
                        var needed = Manifest.Parse(manifestBytes).SegmentHashes.Distinct(StringComparer.Ordinal).Select(SegmentHash.Parse).ToArray();
                        long added = 0;
                        await Parallel.ForEachAsync(needed, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = ct }, async (hash, token) =>
                        {
                            if (await store.ContainsAsync(hash, token))
                                return;
                            try
                            {
                                // The stored frame as it is (no second compression); the store decompresses it once to check its hash.
                                if (library.ReadFrame(hash) is { } frame)
                                {
                                    await store.PutCompressedAsync(hash, frame.Length, frame.Frame, token);
                                    Interlocked.Increment(ref added);
                                    return;
                                }
                            }
                            catch (SegmentRejectedException)
                            {
                                // that copy's content is damaged: the library tries the others below
                            }

                            await store.PutAsync(hash, await library.ReadAsync(hash, token), token);
                            Interlocked.Increment(ref added);
                        });
                        segments += added;
                        whole.Add(set.SetId);
                        incomplete.Remove(set.SetId);
                    }
                    catch (VaultException ex)
                    {
                        incomplete[set.SetId] = $"{set.SetId}: {ex.Message}";
                    }
                }
            }

            Directory.Delete(images, recursive: true);
            var journal = await RotationJournal.LoadAsync(log, "recover", null, ct);
            var atPrimary = journal.State.Policy is { } policy
                ? journal.State.Media.Values.Where(m => m.HoldsData && (m.Site == policy.DriveSite || (m.Site is null && !journal.State.CustodianKeepsInTransit(m)))).Select(m => m.Label).Order(StringComparer.Ordinal).ToArray()
                : [];
            await log.DisposeAsync();
            var seconds = context.Clock.GetElapsedTime(started).TotalSeconds;
            var result = new
            {
                vault = target, vaultId = genesis.VaultId, records = imported, checkpointsVerified = verified, setsRecovered = whole.Count, setsIncomplete = incomplete.Values,
                segments, imageBytes, imageProblems = fetchProblems, mediaLostWithThePrimary = atPrimary, checkpointKey = parse.GetValue(CheckpointKey) is not null, seconds,
            };
            if (parse.GetValue(GlobalOptions.Json))
                context.WriteJson(result);
            else
            {
                context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"recovered vault {genesis.VaultId} into {target}: {imported:N0} records (checkpoints verified: {string.Join(", ", verified)}), {whole.Count} sets whole, {segments:N0} segments from {imageBytes / 1e6:N1} MB of images in {seconds:N1} s"));
                foreach (var problem in incomplete.Values.Concat(fetchProblems))
                    context.Output.WriteLine($"INCOMPLETE {problem}");
                if (atPrimary.Length > 0)
                    context.Output.WriteLine($"media that were at the old primary (record each with 'vault media lose LABEL --reason \"primary lost\"'): {string.Join(", ", atPrimary)}");
                if (parse.GetValue(CheckpointKey) is null)
                    context.Output.WriteLine("no --checkpoint-key: the new primary verifies checkpoints but cannot sign new ones until checkpoint.key is put back.");
            }

            return incomplete.Count > 0 || fetchProblems.Count > 0 ? ExitCodes.Incomplete : ExitCodes.Ok;
        }
        catch when (Directory.Exists(target) && File.Exists(Path.Combine(target, VaultOpener.SqliteFile)) && !File.Exists(VaultManifest.PathIn(target)))
        {
            // Cut short before the vault was whole (a custodian went away, a copy broke): leave nothing half-built.
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(target, recursive: true);
            throw;
        }
        finally
        {
            foreach (var c in custodians)
                c.Client.Dispose();
        }
    }
}
