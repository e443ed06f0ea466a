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

    /// <summary>Reads an image record by record as it streams in; every segment not in the store yet goes in, two at a time.</summary>
    private static async Task ImportImageAsync(Stream stream, long total, FileSegmentStore store, string label, List<string> problems, Action stored, CancellationToken ct)
    {
        var queue = System.Threading.Channels.Channel.CreateBounded<(SegmentHash Hash, long Length, ReadOnlyMemory<byte> Frame)>(8);
        var workers = Enumerable.Range(0, Math.Max(2, Environment.ProcessorCount)).Select(_ => Task.Run(async () =>
        {
            await foreach (var (hash, length, frame) in queue.Reader.ReadAllAsync(ct))
            {
                try
                {
                    if ((await store.PutCompressedAsync(hash, length, frame, ct)).Stored)
                        stored();
                }
                catch (SegmentRejectedException ex)
                {
                    lock (problems)
                        problems.Add($"{label}: segment {hash} is damaged on this image ({ex.Message}); another copy may hold it");
                }
            }
        }, ct)).ToArray();
        try
        {
            await Task.Run(async () =>
            {
                long offset = 0;
                while (TapeFormat.Read(stream, offset, total, verify: false) is { } record)
                {
                    offset += TapeFormat.RecordBytes(record.Payload.Length);
                    if (record.Type != TapeRecordType.Segment)
                        continue;
                    var (hex, length, frame) = TapeFormat.ParseSegment(record.Payload);
                    var hash = SegmentHash.Parse(hex);
                    if (!await store.ContainsAsync(hash, ct))
                        await queue.Writer.WriteAsync((hash, length, frame), ct);
                }
            }, ct);
        }
        finally
        {
            queue.Writer.TryComplete();
            await Task.WhenAll(workers);
        }
    }

    /// <summary>What the store lacks to restore a set, or null when it is whole.</summary>
    private static async Task<string?> MissingAsync(FileSegmentStore store, SetSealed set, CancellationToken ct)
    {
        var manifestHash = SegmentHash.Parse(set.ManifestHash);
        if (!await store.ContainsAsync(manifestHash, ct))
            return $"its manifest {set.ManifestHash} is on no image a custodian holds";
        var missing = 0;
        foreach (var hex in Manifest.Parse(await store.ReadAsync(manifestHash, ct)).SegmentHashes.Distinct(StringComparer.Ordinal))
        {
            if (!await store.ContainsAsync(SegmentHash.Parse(hex), ct))
                missing++;
        }

        return missing == 0 ? null : $"{missing} of its segments are on no image a custodian holds";
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

            // The segments: images streamed back from one custodian after another (each hashed as it arrives and
            // compared with its SHA-256 at its end), every segment record put into the new store as it passes (the
            // store checks each frame against its hash), until every sealed set is whole.
            var fetchProblems = new List<string>();
            var sealedSets = (await new BackupSets(log).ListAsync(ct)).Where(s => s.Status == SetStatus.Sealed).Select(s => s.Sealed!).ToArray();
            var store = new FileSegmentStore(VaultOpener.SegmentsDirectory(target));
            var whole = new HashSet<string>(StringComparer.Ordinal);
            var incomplete = new Dictionary<string, string>(StringComparer.Ordinal);
            long imageBytes = 0, segments = 0;
            foreach (var c in custodians)
            {
                if (whole.Count == sealedSets.Length)
                    break;
                foreach (var entry in await c.Client.ListAsync(ct))
                {
                    try
                    {
                        imageBytes += await c.Client.StreamImageAsync(entry.Facts.Label, entry.Facts.Sha256, (stream, total) => ImportImageAsync(stream, total, store, entry.Facts.Label, fetchProblems, () => Interlocked.Increment(ref segments), ct), ct);
                        context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"recover: {entry.Facts.Label} from {c.Name} read ({imageBytes / 1e6:N0} MB so far, {segments:N0} segments stored)"));
                    }
                    catch (VaultException ex)
                    {
                        fetchProblems.Add($"{c.Name}: {ex.Message}");
                    }
                    catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException)
                    {
                        fetchProblems.Add($"{c.Name}: the image of {entry.Facts.Label} is broken ({ex.Message}); what was read before is kept, each segment checked against its hash");
                    }
                }

                foreach (var set in sealedSets.Where(s => !whole.Contains(s.SetId)))
                {
                    var missing = await MissingAsync(store, set, ct);
                    if (missing is null)
                    {
                        whole.Add(set.SetId);
                        incomplete.Remove(set.SetId);
                    }
                    else
                    {
                        incomplete[set.SetId] = $"{set.SetId}: {missing}";
                    }
                }
            }

            // Images may hold segments of sets deleted since: they do not come back.
            var referenced = new HashSet<string>(StringComparer.Ordinal);
            foreach (var set in sealedSets.Where(s => whole.Contains(s.SetId)))
            {
                referenced.Add(set.ManifestHash);
                referenced.UnionWith(Manifest.Parse(await store.ReadAsync(SegmentHash.Parse(set.ManifestHash), ct)).SegmentHashes);
            }

            await foreach (var hash in store.ListAsync(ct))
            {
                if (!referenced.Contains(hash.Hex) && await store.RemoveAsync(hash, ct))
                    segments--;
            }

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
                foreach (var problem in incomplete.Values)
                    context.Output.WriteLine($"INCOMPLETE {problem}");
                foreach (var problem in fetchProblems)
                    context.Output.WriteLine($"DAMAGED   {problem}");
                if (atPrimary.Length > 0)
                    context.Output.WriteLine($"media that were at the old primary (record each with 'vault media lose LABEL --reason \"primary lost\"'): {string.Join(", ", atPrimary)}");
                if (parse.GetValue(CheckpointKey) is null)
                    context.Output.WriteLine("no --checkpoint-key: the new primary verifies checkpoints but cannot sign new ones until checkpoint.key is put back.");
            }

            // A damaged image another custodian made up for is named, not a failure; a set that is not whole is.
            return incomplete.Count > 0 ? ExitCodes.Incomplete : ExitCodes.Ok;
        }
        catch when (Directory.Exists(target) && File.Exists(Path.Combine(target, VaultOpener.SqliteFile)) && !File.Exists(VaultManifest.PathIn(target)))
        {
            // Cut short before the vault was whole (a custodian went away, a copy broke): leave nothing half-built.
            Vault.Storage.Sqlite.SqliteLogBackend.ReleasePools(Path.Combine(target, VaultOpener.SqliteFile));
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
