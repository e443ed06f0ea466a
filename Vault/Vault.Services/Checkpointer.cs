using System.Text.Json;
using Vault.Core.Checkpoints;
using Vault.Core.Errors;
using Vault.Core.Governance;
using Vault.Core.Log;
using Vault.Core.Vaults;
using Vault.Storage;

namespace Vault.Services;

/// <summary>
/// Appends signed checkpoints. The Merkle tree resumes from the last checkpoint's compact range, so a checkpoint
/// reads and hashes only the records since then (O(new records + log n)), never the whole log.
/// </summary>
public sealed class Checkpointer(IEventLog log, string vaultId, byte[] checkpointPrivateKey, TimeProvider clock)
{
    public const string Actor = "checkpointer";

    /// <summary>The latest checkpoint recorded, and the checkpoints stream's version (-1: none yet).</summary>
    public static async Task<(CheckpointRecorded? Latest, long Version)> LatestAsync(IEventLog log, CancellationToken ct)
    {
        CheckpointRecorded? latest = null;
        var version = -1L;
        await foreach (var record in log.ReadStreamAsync(CheckpointRecorded.Stream, 0, ct))
        {
            version = record.StreamVersion;
            if (EventCodec.Decode(record) is CheckpointRecorded c)
                latest = c;
        }

        return (latest, version);
    }

    /// <summary>A checkpoint when at least <paramref name="everyRecords"/> records or <paramref name="every"/> passed since the last; else null.</summary>
    public async Task<CheckpointRecorded?> MaybeAsync(long everyRecords, TimeSpan every, CancellationToken ct)
    {
        var (latest, _) = await LatestAsync(log, ct);
        var head = await log.ReadHeadAsync(ct);
        var since = head.Position - (latest?.Position ?? 0);
        if (since <= 1 && latest is not null)
            return null; // nothing new but the last checkpoint itself
        if (latest is not null && since < everyRecords && clock.GetUtcNow() - latest.At < every)
            return null;
        return await AppendAsync(ct);
    }

    /// <summary>Appends a checkpoint over the log as it is now.</summary>
    public async Task<CheckpointRecorded> AppendAsync(CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            var (latest, version) = await LatestAsync(log, ct);
            var tree = latest?.Peaks is { } peaks ? new MerkleTree(latest.Count, [.. peaks.Select(Convert.FromHexString)]) : new MerkleTree();
            if (latest is not null && latest.Peaks is null)
                tree = new MerkleTree();
            var head = LogHead.Empty;
            await foreach (var record in log.ReadAllAsync(tree.Size + 1, ct))
            {
                tree.Append(record.Hash);
                head = new LogHead(record.Position, record.Hash);
            }

            if (head.Position == 0)
                throw new StorageCorruptException("The log is empty; there is nothing to checkpoint.");
            var at = ChainHash.Truncate(clock.GetUtcNow());
            var root = Convert.ToHexStringLower(tree.Root());
            var signature = Ed25519.Sign(checkpointPrivateKey, CheckpointRecorded.SigningText(vaultId, head.Position, head.HashHex, tree.Size, root, at));
            var checkpoint = new CheckpointRecorded(head.Position, head.HashHex, tree.Size, root, at, Convert.ToHexStringLower(signature),
                [.. tree.Peaks.Select(Convert.ToHexStringLower)]);
            try
            {
                await log.AppendAsync(CheckpointRecorded.Stream, version < 0 ? ExpectedVersion.NoStream : ExpectedVersion.Exactly(version), [EventCodec.Encode(checkpoint, Actor)], ct);
                return checkpoint;
            }
            catch (WrongExpectedVersionException) when (attempt < 3)
            {
                // another instance checkpointed meanwhile: resume from theirs
            }
        }
    }

    /// <summary>The copy that leaves the primary: the checkpoint (without its compact range) and the genesis it descends from.</summary>
    public static async Task<CheckpointCopy?> CopyAsync(IEventLog log, CancellationToken ct)
    {
        var (latest, _) = await LatestAsync(log, ct);
        if (latest is null)
            return null;
        await foreach (var genesis in log.ReadAllAsync(1, ct))
        {
            var vaultId = VaultCreated.From(genesis)?.VaultId ?? "";
            return new CheckpointCopy(CheckpointCopy.CurrentFormat, vaultId, latest.Signed(), Convert.ToHexStringLower(genesis.Hash), Convert.ToBase64String(genesis.Payload));
        }

        return null;
    }

    public static readonly JsonSerializerOptions CopyJson = new() { WriteIndented = true };

    /// <summary>Writes a copy through a temporary file and a rename, so a reader sees the old copy or the new, never half.</summary>
    public static void WriteCopy(CheckpointCopy copy, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(stream, copy, CopyJson);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Reads a copy; null with the reason when the file is not one.</summary>
    public static (CheckpointCopy? Copy, string? Problem) ReadCopy(string path)
    {
        try
        {
            var copy = JsonSerializer.Deserialize<CheckpointCopy>(File.ReadAllBytes(path));
            return copy is { Format: CheckpointCopy.CurrentFormat, Checkpoint: not null } ? (copy, null) : (null, $"{path} is not a vault checkpoint copy");
        }
        catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return (null, $"{path} cannot be read as a checkpoint copy ({ex.Message})");
        }
    }
}
