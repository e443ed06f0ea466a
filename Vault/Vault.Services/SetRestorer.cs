using System.Text.Json;
using Vault.Core.Errors;
using Vault.Core.Segments;
using Vault.Core.Sets;
using Vault.Storage;

namespace Vault.Services;

public sealed record RestoreResult(string SetId, long Files, long Bytes, long Segments);

/// <summary>Rebuilds a sealed set from the segment store, checking every segment's hash and the manifest's.</summary>
public sealed class SetRestorer(IEventLog log, ISegmentStore store)
{
    public async Task<Manifest> ManifestAsync(string setId, CancellationToken ct)
    {
        var (state, _) = await new BackupSets(log).LoadAsync(setId, ct);
        if (state.Status == SetStatus.None)
            throw new NotAVaultException($"There is no set '{setId}'. 'vault sets list' shows them.");
        if (state.Status == SetStatus.Deleted)
            throw new StorageRefusedException($"Set {setId} was deleted by the quorum-approved request {state.DeletedBy}; copies on media at other sites may still hold it until they are recycled.");
        if (state.Status != SetStatus.Sealed)
            throw new StorageRefusedException($"Set {setId} was never sealed: it is incomplete and not a backup. Push it again.");
        return await ReadManifestAsync(store, state.Sealed!, ct);
    }

    /// <summary>A sealed set's manifest, read (and verified) from its stored segment; no log read.</summary>
    public static async Task<Manifest> ReadManifestAsync(ISegmentReader store, SetSealed sealedSet, CancellationToken ct)
    {
        try
        {
            return Manifest.Parse(await store.ReadAsync(SegmentHash.Parse(sealedSet.ManifestHash), ct));
        }
        catch (JsonException ex)
        {
            throw new StorageCorruptException($"The manifest of set {sealedSet.SetId} cannot be read ({ex.Message}).", ex);
        }
        catch (VaultException ex) when (ex is SegmentCorruptException or SegmentNotFoundException)
        {
            throw new StorageCorruptException(
                $"The manifest of set {sealedSet.SetId} cannot be read: {ex.Message.TrimEnd('.')}. Nothing was written. "
                + "Restore the set from a tape image ('vault media restore'), and run 'vault check --read-data' to see all damage.", ex);
        }
    }

    /// <summary>Restores a tree into <paramref name="target"/>, which must not exist or be empty.</summary>
    public async Task<RestoreResult> RestoreTreeAsync(string setId, string target, IProgress<long>? bytes, CancellationToken ct) =>
        await RestoreTreeAsync(await ManifestAsync(setId, ct), store, target, bytes, ct);

    /// <summary>Restores a manifest's tree from any segment source (the store, or tape images) into a new or empty directory.</summary>
    public static async Task<RestoreResult> RestoreTreeAsync(Manifest manifest, ISegmentReader store, string target, IProgress<long>? bytes, CancellationToken ct)
    {
        var setId = manifest.SetId;
        var root = Path.GetFullPath(target);
        if (ManifestRules.Problem(manifest) is { } unsafeEntry)
            throw new StorageCorruptException($"Set {setId} cannot be restored safely: {unsafeEntry}. Nothing was written.");
        if (Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any())
            throw new VaultConfigurationException($"{root} is not empty; restore into a new or empty directory so nothing is overwritten.");
        Directory.CreateDirectory(root);
        var links = new List<(string Path, ManifestEntry Entry)>();
        long files = 0, total = 0, segments = 0;
        var directories = new List<(string Path, ManifestEntry Entry)>();
        await using var reads = new SegmentPrefetch(store, manifest.Entries.Where(e => e.Type is "file" or "stream").SelectMany(e => e.Segments ?? []), ct);
        foreach (var entry in manifest.Entries)
        {
            var path = SafePath(root, entry.Path);
            switch (entry.Type)
            {
                case "dir":
                    Directory.CreateDirectory(path);
                    directories.Add((path, entry));
                    break;
                case "symlink":
                    links.Add((path, entry)); // made last: nothing is ever written through a link this restore made
                    break;
                case "file" or "stream":
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    // Preallocated to its size (one extent instead of many) and unbuffered: segments arrive in megabytes.
                    try
                    {
                        await using var output = new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, PreallocationSize = entry.Size, BufferSize = 0 });
                        foreach (var _ in entry.Segments ?? [])
                        {
                            using var data = await reads.NextAsync();
                            await output.WriteAsync(data.Memory, ct);
                            total += data.Memory.Length;
                            segments++;
                            bytes?.Report(total);
                        }
                    }
                    catch (VaultException ex) when (ex is SegmentCorruptException or SegmentNotFoundException or StorageCorruptException)
                    {
                        // Never leave a file that looks restored but is not: the partial one goes, and the message names it.
                        File.Delete(path);
                        throw new StorageCorruptException(
                            $"File {entry.Path} of set {setId} cannot be restored: {ex.Message.TrimEnd('.')}. It was not written; the files before it in the set were. "
                            + "Restore the set from a tape image ('vault media restore') or another copy, and run 'vault check --read-data' to see all damage.", ex);
                    }

                    Apply(path, entry);
                    files++;
                    break;
            }
        }

        foreach (var (path, entry) in links)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.CreateSymbolicLink(path, entry.Target!);
            SetLinkTime(path, entry.MtimeUnixMs);
        }

        foreach (var (path, entry) in Enumerable.Reverse(directories))
            Apply(path, entry); // last, so writing files did not change their mtimes
        return new RestoreResult(setId, files, total, segments);
    }

    /// <summary>Writes a stream set (or a tree's single file) to <paramref name="output"/>.</summary>
    public async Task<RestoreResult> RestoreStreamAsync(string setId, Stream output, CancellationToken ct) =>
        await RestoreStreamAsync(await ManifestAsync(setId, ct), store, output, ct);

    public static async Task<RestoreResult> RestoreStreamAsync(Manifest manifest, ISegmentReader store, Stream output, CancellationToken ct)
    {
        var setId = manifest.SetId;
        if (manifest.Kind != "stream")
            throw new VaultConfigurationException($"Set {setId} is a directory tree; restore it with --to DIR.");
        long total = 0, segments = 0;
        var hashes = manifest.Entries.SelectMany(e => e.Segments ?? []).ToArray();
        await using var reads = new SegmentPrefetch(store, hashes, ct);
        foreach (var _ in hashes)
        {
            using var data = await reads.NextAsync();
            await output.WriteAsync(data.Memory, ct);
            total += data.Memory.Length;
            segments++;
        }

        await output.FlushAsync(ct);
        return new RestoreResult(setId, 1, total, segments);
    }

    /// <summary>
    /// Reads segments ahead, several at once (read, decompress and hash each on its own core), and hands them out in
    /// manifest order; at most <see cref="Depth"/> segments are held at a time.
    /// </summary>
    private sealed class SegmentPrefetch : IAsyncDisposable
    {
        private const int Depth = 6;
        private readonly System.Threading.Channels.Channel<Task<SegmentLease>> _ready = System.Threading.Channels.Channel.CreateBounded<Task<SegmentLease>>(Depth);
        private readonly CancellationTokenSource _stop;
        private readonly Task _producer;

        public SegmentPrefetch(ISegmentReader store, IEnumerable<string> hashes, CancellationToken ct)
        {
            _stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            _producer = Task.Run(async () =>
            {
                try
                {
                    foreach (var hash in hashes)
                        await _ready.Writer.WriteAsync(Task.Run(() => store.LeaseAsync(SegmentHash.Parse(hash), _stop.Token)), _stop.Token);
                    _ready.Writer.TryComplete();
                }
                catch (Exception ex)
                {
                    _ready.Writer.TryComplete(ex);
                }
            });
        }

        public async Task<SegmentLease> NextAsync() => await await _ready.Reader.ReadAsync(_stop.Token);

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            try
            {
                await _producer;
            }
            catch (OperationCanceledException)
            {
            }

            while (_ready.Reader.TryRead(out var pending))
            {
                try { (await pending).Dispose(); }
                catch (Exception) { } // abandoned read-ahead: its failure, if any, no longer matters
            }

            _stop.Dispose();
        }
    }

    private static void Apply(string path, ManifestEntry entry)
    {
        if (!OperatingSystem.IsWindows() && entry.Mode != 0)
            File.SetUnixFileMode(path, (UnixFileMode)entry.Mode);
        var mtime = DateTimeOffset.FromUnixTimeMilliseconds(entry.MtimeUnixMs).UtcDateTime;
        if (entry.Type == "dir")
            Directory.SetLastWriteTimeUtc(path, mtime);
        else
            File.SetLastWriteTimeUtc(path, mtime);
    }

    /// <summary>Sets a symlink's own mtime (lutimes), never its target's.</summary>
    private static void SetLinkTime(string path, long mtimeUnixMs)
    {
        if (OperatingSystem.IsWindows())
            return;
        var time = new Timespec(mtimeUnixMs / 1000, mtimeUnixMs % 1000 * 1_000_000);
        if (Native.utimensat(AtFdCwd, path, [time, time], AtSymlinkNoFollow) != 0)
            throw new IOException($"Could not set the time of the symlink {path} (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}).");
    }

    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private readonly record struct Timespec(long Seconds, long Nanoseconds);

    private static class Native
    {
#pragma warning disable SYSLIB1054 // LibraryImport needs unsafe code in this project; one call, plain blittable arguments
        [System.Runtime.InteropServices.DllImport("libc", SetLastError = true, CharSet = System.Runtime.InteropServices.CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
        internal static extern int utimensat(int dirfd, string path, Timespec[] times, int flags);
#pragma warning restore SYSLIB1054
    }

    /// <summary>A manifest path may not climb out of the target (no absolute paths, no '..').</summary>
    private static string SafePath(string root, string relative)
    {
        var path = Path.GetFullPath(Path.Combine(root, relative));
        if (!path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new StorageCorruptException($"The manifest names '{relative}', which lies outside the restore directory; refusing to restore it.");
        return path;
    }
}
