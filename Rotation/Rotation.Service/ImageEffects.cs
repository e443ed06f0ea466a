using System.Security.Cryptography;
using Rotation.Core;
using Vault.Core.Errors;
using Vault.Core.Segments;
using Vault.Storage;
using Rotation.Service.Custodians;
using Vault.Storage.Segments;

namespace Rotation.Service;

/// <summary>
/// The nightly run's effects on real image files: a write reads each segment from the vault's store, checks it against
/// its hash (a damaged segment is never copied to media), writes the image beside its final name, flushes it to disk,
/// reads it back to take its SHA-256, then renames it into place. Erasing deletes the image; moving renames it between
/// site directories, and tolerates a move a crash already made.
/// </summary>
public sealed class ImageEffects(SiteLayout layout, FileSegmentStore store, string vaultId, string driveSite, Vault.Core.Checkpoints.CheckpointCopy? checkpoint = null) : IMediaEffects
{
    public async Task<WrittenMedium> WriteAsync(string writeId, PoolDefinition pool, DateOnly date, int spanIndex, int spanCount, string label, IReadOnlyList<TapeItem> items, CancellationToken ct)
    {
        var final = layout.ImageOf(label, driveSite);
        var partial = final + ".partial";
        Directory.CreateDirectory(Path.GetDirectoryName(final)!);
        long bytes = 0;
        var catalogSegments = new List<TapeCatalogEntry>();
        var marks = new List<TapeSetMark>();
        await using (var output = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            bytes += TapeFormat.Write(output, TapeRecordType.Header, TapeFormat.JsonPayload(new TapeHeader(TapeHeader.CurrentFormat, vaultId, label, pool.Name, writeId, spanIndex, spanCount, date, checkpoint)));
            foreach (var item in items)
            {
                if (item is SegmentItem { Segment: var segment })
                {
                    var hash = SegmentHash.Parse(segment.Hash);
                    long plaintextLength;
                    try
                    {
                        using var verified = await store.LeaseAsync(hash, ct); // the store's own check: decompressed within bounds, hash matches
                        plaintextLength = verified.Memory.Length;
                    }
                    catch (SegmentCorruptException ex)
                    {
                        throw new StorageCorruptException($"{ex.Message} It was not written to {label}.", ex);
                    }

                    var frame = await store.ReadStoredAsync(hash, ct);
                    catalogSegments.Add(new TapeCatalogEntry(segment.Hash, bytes));
                    bytes += TapeFormat.Write(output, TapeRecordType.Segment, TapeFormat.SegmentPayload(segment.Hash, plaintextLength, frame));
                }
                else if (item is SetMarkItem { Set: var set })
                {
                    var mark = new TapeSetMark(set.SetId, set.Source, set.SealedAt, set.Manifest.Hash, set.Segments.Count);
                    marks.Add(mark);
                    bytes += TapeFormat.Write(output, TapeRecordType.SetMark, TapeFormat.JsonPayload(mark));
                }
            }

            bytes += TapeFormat.Write(output, TapeRecordType.Catalog, TapeFormat.JsonPayload(new TapeCatalog(label, writeId, spanIndex, spanIndex < spanCount - 1, marks, catalogSegments)));
            bytes += TapeFormat.Write(output, TapeRecordType.EndOfData, []);
            if (bytes > pool.CapacityBytes)
                throw new InvalidOperationException($"{label} would hold {bytes} bytes, more than its capacity of {pool.CapacityBytes}; the layout estimate is wrong.");
            await output.FlushAsync(ct);
            output.Flush(flushToDisk: true);
        }

        string sha;
        await using (var check = new FileStream(partial, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20))
            sha = Convert.ToHexStringLower(await SHA256.HashDataAsync(check, ct));
        File.Move(partial, final, overwrite: true);
        return new WrittenMedium(label, spanIndex, bytes, sha);
    }

    /// <summary>Erases a medium's image; at a custodian that is a return, which its custodian refuses before the retain-until it accepted.</summary>
    public async Task EraseAsync(MediumInfo medium, CancellationToken ct)
    {
        if (layout.CustodianOf(medium.Site) is { } custodian)
        {
            using var client = CustodianClient.For(custodian);
            await client.ReturnAsync(medium.Label, ct);
            return;
        }

        while (layout.Find(medium.Label) is { } image)
            File.Delete(image);
    }

    /// <summary>
    /// Brings a medium still needed back from its custodian under an approved rotation request: the image is read back
    /// (checked against the SHA-256 written) into transit on the primary, then the custodian is asked to release it
    /// early, which it does only after proving <paramref name="requestId"/> itself. Refused or unreachable: the
    /// downloaded copy is removed and the medium stays where it is.
    /// </summary>
    public async Task BringBackAsync(MediumInfo medium, string from, string requestId, CancellationToken ct)
    {
        var source = layout.CustodianOf(from) ?? throw new InvalidOperationException($"{from} has no custodian.");
        var transit = layout.ImageOf(medium.Label, null);
        Directory.CreateDirectory(Path.GetDirectoryName(transit)!);
        using var client = CustodianClient.For(source);
        try
        {
            await client.DownloadAsync(medium.Label, medium.ImageSha256 ?? throw new StorageCorruptException($"The log records no image SHA-256 for {medium.Label}."), transit, ct);
            await client.ReturnAsync(medium.Label, ct, requestId);
        }
        catch (CustodianUnavailableException ex)
        {
            File.Delete(transit);
            throw new MoveDeferredException($"{medium.Label} stays at {from}: {ex.Message}", ex);
        }
        catch (CustodianRefusedException ex)
        {
            File.Delete(transit);
            throw new MoveDeferredException($"{medium.Label} stays at {from}: its custodian did not release it ({ex.Message}).", ex, FailureKind.Refused);
        }
    }

    /// <summary>
    /// Ships a medium. Towards a custodian, the image is deposited at once with its facts (the custodian keeps it in
    /// transit until the arrival date by its own clock) and only then removed from the primary: it is never parked on
    /// the primary's disk. From a custodian, the custodian is asked to give it back, which it refuses before the
    /// retain-until it accepted; it comes back erased. Between directories, the image is renamed into sites/in-transit.
    /// </summary>
    public async Task ShipAsync(MediumInfo medium, string from, string to, DateOnly arrivesBy, CancellationToken ct)
    {
        var source = layout.CustodianOf(from);
        var target = layout.CustodianOf(to);
        if (source is not null && target is not null)
            throw new VaultConfigurationException($"{medium.Label} cannot go from one custodian ({from}) straight to another ({to}); bring it to the drive's site first.");
        if (source is not null)
        {
            using var client = CustodianClient.For(source);
            try
            {
                await client.ReturnAsync(medium.Label, ct);
            }
            catch (CustodianUnavailableException ex)
            {
                throw new MoveDeferredException($"{medium.Label} stays at {from}: {ex.Message}", ex);
            }
            catch (CustodianRefusedException ex) when (ex.Code == CustodianProtocol.Codes.NotFound)
            {
                // Already given back (a run cut short after the return, before it was recorded).
            }
            catch (CustodianRefusedException ex) when (ex.Code == CustodianProtocol.Codes.Retained)
            {
                throw new MoveDeferredException($"{medium.Label} stays at {from}: {ex.Message} (by this host's clock it is needed until {medium.NeededUntil:yyyy-MM-dd}; a clock running ahead does not hurry the custodian's).", ex, FailureKind.Refused);
            }

            return;
        }

        var image = layout.ImageOf(medium.Label, from);
        if (!File.Exists(image))
        {
            if (target is not null ? await AlreadyDepositedAsync(medium, target, ct) : File.Exists(layout.ImageOf(medium.Label, null)))
                return; // moved before a crash; only the record was missing
            throw new StorageCorruptException($"The image of {medium.Label} is not at {Path.GetDirectoryName(image)} where the log says it is. If the medium is gone, record it with 'vault media lose {medium.Label}'.");
        }

        CheckWritten(medium, image);
        if (target is null)
        {
            var transit = layout.ImageOf(medium.Label, null);
            Directory.CreateDirectory(Path.GetDirectoryName(transit)!);
            File.Move(image, transit);
            return;
        }

        using (var client = CustodianClient.For(target))
        {
            CustodyEntry entry;
            try
            {
                entry = await client.DepositAsync(image, medium.Label, medium.WriteId!, medium.ImageSha256!, medium.NeededUntil ?? medium.RetainUntil!.Value, arrivesBy, ct);
            }
            catch (CustodianUnavailableException ex)
            {
                throw new MoveDeferredException($"{medium.Label} stays at {from} and ships on a later run: {ex.Message}", ex);
            }
            catch (CustodianRefusedException ex)
            {
                throw new MoveDeferredException($"{medium.Label} stays at {from}: {ex.Message} Examine the custodian's journal ('vault site verify' there) before it ships again.", ex, FailureKind.Refused);
            }

            if (entry.Facts.Sha256 != medium.ImageSha256 || entry.Facts.WriteId != medium.WriteId)
                throw new StorageCorruptException($"The custodian of {to} holds {medium.Label} as write {entry.Facts.WriteId} (SHA-256 {entry.Facts.Sha256}), not the image written ({medium.WriteId}, {medium.ImageSha256}); the local image was kept.");
        }

        File.Delete(image);
    }

    private static async Task<bool> AlreadyDepositedAsync(MediumInfo medium, SiteDefinitionAccess custodian, CancellationToken ct)
    {
        using var client = CustodianClient.For(custodian);
        try
        {
            return await client.FactsAsync(medium.Label, ct) is { } held && held.Facts.WriteId == medium.WriteId && held.Facts.Sha256 == medium.ImageSha256;
        }
        catch (CustodianUnavailableException ex)
        {
            throw new MoveDeferredException($"{medium.Label} cannot be found on the primary, and the custodian that may hold it is down: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Confirms an arrival. At a custodian: its own facts say whether the courier has delivered, and must name the
    /// image written. Elsewhere the image is renamed out of sites/in-transit; a medium back from a custodian has no
    /// image (the custodian erased it when it gave it back).
    /// </summary>
    public async Task ReceiveAsync(MediumInfo medium, string site, CancellationToken ct)
    {
        if (layout.CustodianOf(site) is { } custodian)
        {
            using var client = CustodianClient.For(custodian);
            CustodyEntry? entry;
            try
            {
                entry = await client.FactsAsync(medium.Label, ct);
            }
            catch (CustodianUnavailableException ex)
            {
                throw new MoveDeferredException($"The arrival of {medium.Label} at {site} cannot be confirmed tonight: {ex.Message}", ex);
            }

            if (entry is null)
                throw new StorageCorruptException($"The custodian of {site} holds no image {medium.Label}, though it was shipped there; if the medium is gone, record it with 'vault media lose {medium.Label}'.");
            if (entry.Facts.WriteId != medium.WriteId || entry.Facts.Sha256 != medium.ImageSha256)
                throw new StorageCorruptException($"The custodian of {site} holds {medium.Label} as write {entry.Facts.WriteId} (SHA-256 {entry.Facts.Sha256}), not the image written ({medium.WriteId}, {medium.ImageSha256}).");
            if (entry.Status == CustodyStatus.InTransit)
                throw new MoveDeferredException($"{medium.Label} is still with the courier by the clock of {site}'s custodian (arrives {entry.Facts.ArrivesOn:yyyy-MM-dd}, its today {entry.Today:yyyy-MM-dd}).");
            return;
        }

        var transit = layout.ImageOf(medium.Label, null);
        var target = layout.ImageOf(medium.Label, site);
        if (File.Exists(transit))
        {
            CheckWritten(medium, transit);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Move(transit, target);
        }
        else if (!File.Exists(target) && layout.CustodianOf(medium.From) is null)
        {
            throw new StorageCorruptException($"The image of {medium.Label} is not in {Path.GetDirectoryName(transit)} where the log says it is. If the medium is gone, record it with 'vault media lose {medium.Label}'.");
        }
    }

    /// <summary>The image must be the one written: a copy swapped for another (an older, valid image) is not moved on.</summary>
    private static void CheckWritten(MediumInfo medium, string image)
    {
        if (medium.ImageSha256 is { } written && Sha256Of(image) is var actual && actual != written)
            throw new StorageCorruptException($"The image of {medium.Label} at {image} is not the one written to it (SHA-256 {actual}, recorded at write {written}): it was swapped or damaged. It was not moved; examine it, and record the medium lost if the written one is gone.");
    }

    private static string Sha256Of(string path)
    {
        using var input = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return Convert.ToHexStringLower(SHA256.HashData(input));
    }
}
