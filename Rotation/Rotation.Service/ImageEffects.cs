using System.Security.Cryptography;
using Rotation.Core;
using Vault.Core.Errors;
using Vault.Core.Segments;
using Vault.Storage;
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

    public Task EraseAsync(MediumInfo medium, CancellationToken ct)
    {
        while (layout.Find(medium.Label) is { } image)
            File.Delete(image);
        return Task.CompletedTask;
    }

    public Task MoveAsync(MediumInfo medium, string? from, string? to, CancellationToken ct)
    {
        var source = layout.ImageOf(medium.Label, from);
        var target = layout.ImageOf(medium.Label, to);
        if (File.Exists(source))
        {
            // The image must be the one written: a copy swapped for another (an older, valid image) is not moved on.
            if (medium.ImageSha256 is { } written && Sha256Of(source) is var actual && actual != written)
                throw new StorageCorruptException($"The image of {medium.Label} at {source} is not the one written to it (SHA-256 {actual}, recorded at write {written}): it was swapped or damaged. It was not moved; examine it, and record the medium lost if the written one is gone.");
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Move(source, target);
        }
        else if (!File.Exists(target))
        {
            throw new StorageCorruptException($"The image of {medium.Label} is not at {Path.GetDirectoryName(source)} where the log says it is. If the medium is gone, record it with 'vault media lose {medium.Label}'.");
        }

        return Task.CompletedTask;
    }

    private static string Sha256Of(string path)
    {
        using var input = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return Convert.ToHexStringLower(SHA256.HashData(input));
    }
}
