using Vault.Core.Checkpoints;
using Vault.Storage;

namespace Vault.Storage.Log;

/// <summary>
/// merkle-blocks.bin in the vault directory: the root of every complete block of 1,024 records, 32 bytes each, in
/// order, extended as the log grows. A cache only: 'vault audit prove' checks every proof it makes from it against the
/// signed checkpoint root, and rebuilds it from the log when a proof does not hold. Deleting it costs one full read.
/// </summary>
public static class MerkleBlockCache
{
    public const string FileName = "merkle-blocks.bin";

    public static async Task<List<byte[]>> LoadAsync(string vaultDirectory, IEventLog log, long size, CancellationToken ct)
    {
        var path = Path.Combine(vaultDirectory, FileName);
        var blocks = new List<byte[]>();
        if (File.Exists(path))
        {
            var bytes = await File.ReadAllBytesAsync(path, ct);
            for (var i = 0; i + 32 <= bytes.Length; i += 32)
                blocks.Add(bytes[i..(i + 32)]);
        }

        var need = size / BlockRoots.BlockSize;
        if (blocks.Count >= need)
            return blocks;
        var added = new List<byte[]>();
        for (long b = blocks.Count; b < need; b++)
            added.Add(BlockRoots.RootOfBlock(ReadHashes(log, b * BlockRoots.BlockSize + 1, BlockRoots.BlockSize, ct)));
        try
        {
            await using var file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.None);
            if (file.Length != blocks.Count * 32L)
                file.SetLength(blocks.Count * 32L);
            foreach (var root in added)
                file.Write(root);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A read-only vault directory (an auditor's copy): the cache lives for this run only.
        }

        blocks.AddRange(added);
        return blocks;
    }

    public static void Delete(string vaultDirectory)
    {
        try
        {
            File.Delete(Path.Combine(vaultDirectory, FileName));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>The chain hashes of records [fromPosition, fromPosition + count): from the store's buffers where it can.</summary>
    public static IReadOnlyList<byte[]> ReadHashes(IEventLog log, long fromPosition, long count, CancellationToken ct)
    {
        var hashes = new List<byte[]>((int)Math.Min(count, 1 << 20));
        if ((log as GroupCommitEventLog)?.RawScan is { } raw)
        {
            using var cursor = raw.OpenCursor();
            cursor.Scan(fromPosition, fromPosition + count - 1, new Collect(hashes), ct);
        }
        else
        {
            Task.Run(async () =>
            {
                await foreach (var r in log.ReadAllAsync(fromPosition, ct))
                {
                    if (r.Position >= fromPosition + count)
                        break;
                    hashes.Add(r.Hash);
                }
            }, ct).GetAwaiter().GetResult();
        }

        return hashes.Count == count ? hashes
            : throw new Vault.Core.Errors.StorageCorruptException($"The log holds {hashes.Count} records from position {fromPosition}, not {count}: records are missing. Run 'vault log verify'.");
    }

    private sealed class Collect(List<byte[]> hashes) : IStoredRecordVisitor
    {
        public void Visit(in StoredRecord record) => hashes.Add(record.Hash.ToArray());
    }
}
