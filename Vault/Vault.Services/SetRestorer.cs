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
        var directories = new List<(string Path, ManifestEntry Entry)>();
        var progress = new Totals(bytes);
        await using var reads = new SegmentPrefetch(store, manifest.Entries.Where(e => e.Type is "file" or "stream").SelectMany(e => e.Segments ?? []), ct);
        using var inFlight = new SemaphoreSlim(FilesInFlight);
        var writers = new List<Task>();
        var turn = Task.CompletedTask;
        string? lastParent = null;
        Exception? failure = null;
        try
        {
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
                        if (Path.GetDirectoryName(path) is { } parent && parent != lastParent)
                            Directory.CreateDirectory(lastParent = parent);
                        await inFlight.WaitAsync(reads.Stopping);
                        var next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                        writers.Add(WriteFileAsync(setId, path, entry, reads, turn, next, progress, inFlight));
                        turn = next.Task;
                        break;
                }
            }
        }
        catch (Exception ex)
        {
            failure = ex; // a writer's failure (the reads stopped), the caller's cancellation, or a path that cannot be made
            await reads.StopAsync();
        }

        // Every writer has ended, having written its file whole or deleted it, before anything is reported.
        await Task.WhenAll(writers).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        // The first file that failed in manifest order says why; writers stopped because of it say nothing more.
        if (writers.Where(w => w.IsFaulted).Select(w => w.Exception!.InnerException!).FirstOrDefault(e => e is not OperationCanceledException) is { } failed)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failed);
        if (failure is not null)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        if (writers.FirstOrDefault(w => !w.IsCompletedSuccessfully) is { } stopped)
            await stopped;

        foreach (var (path, entry) in links)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.CreateSymbolicLink(path, entry.Target!);
            SetLinkTime(path, entry.MtimeUnixMs);
        }

        foreach (var (path, entry) in Enumerable.Reverse(directories))
            Apply(path, entry); // last, so writing files did not change their mtimes
        return new RestoreResult(setId, progress.Files, progress.Bytes, progress.Segments);
    }

    /// <summary>
    /// Files written at once: small files cost per-file system calls (create, write, close, mode, time) that would
    /// otherwise wait for each other while the cores decompress (docs/benchmarks.md).
    /// </summary>
    private const int FilesInFlight = 8;

    /// <summary>
    /// Writes one file. Segments come from the read-ahead in manifest order, so each writer takes its segments when the
    /// one before it has taken all of its own (<paramref name="turn"/>), then passes the turn on: a file of one
    /// segment (most small files) is taken at once and written while the next files are taken. A file that cannot be
    /// written whole is deleted: never a file that looks restored but is not.
    /// </summary>
    private static async Task WriteFileAsync(string setId, string path, ManifestEntry entry, SegmentPrefetch reads, Task turn, TaskCompletionSource next, Totals progress, SemaphoreSlim inFlight)
    {
        Task<SegmentLease>? taken = null;
        var created = false;
        try
        {
            try
            {
                await turn.WaitAsync(reads.Stopping);
                var hashes = entry.Segments ?? [];
                if (hashes.Count == 0)
                    next.TrySetResult();
                // Unbuffered: segments arrive in megabytes. A file of several segments is preallocated to its size (one
                // extent instead of many); one of a single segment is written in one call and needs no fallocate.
                await using var output = new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, PreallocationSize = hashes.Count > 1 ? entry.Size : 0, BufferSize = 0 });
                created = true;
                for (var i = 0; i < hashes.Count; i++)
                {
                    taken = await reads.TakeAsync();
                    if (i == hashes.Count - 1)
                        next.TrySetResult(); // this file has taken all it needs: the next one may take its own
                    using var data = await taken;
                    taken = null;
                    await output.WriteAsync(data.Memory, reads.Stopping);
                    reads.Written();
                    progress.Add(data.Memory.Length);
                }

                Apply(output.SafeFileHandle, entry); // through the open file: no path walked again, and a failure deletes it
            }
            catch (Exception ex)
            {
                // Stopped before the turn passes on (finally, below): a writer that failed before taking all of its
                // segments must never let the next file take them as its own.
                reads.Stop();
                if (taken is not null)
                    reads.Abandon(taken);
                if (created)
                    File.Delete(path);
                if (ex is VaultException vault and (SegmentCorruptException or SegmentNotFoundException or StorageCorruptException))
                {
                    throw new StorageCorruptException(
                        $"File {entry.Path} of set {setId} cannot be restored: {vault.Message.TrimEnd('.')}. It was not written; the files restored before it was found were. "
                        + "Restore the set from a tape image ('vault media restore') or another copy, and run 'vault check --read-data' to see all damage.", vault);
                }

                throw;
            }
            finally
            {
                next.TrySetResult();
            }

            progress.FileDone();
        }
        catch
        {
            await reads.StopAsync(); // the first failure stops the reads; every other writer stops and deletes its own file
            throw;
        }
        finally
        {
            inFlight.Release();
        }
    }

    /// <summary>What a restore wrote, counted by writers working at once.</summary>
    private sealed class Totals(IProgress<long>? bytes)
    {
        private long _files, _bytes, _segments;

        public long Files => Interlocked.Read(ref _files);
        public long Bytes => Interlocked.Read(ref _bytes);
        public long Segments => Interlocked.Read(ref _segments);

        public void Add(long written)
        {
            Interlocked.Increment(ref _segments);
            var total = Interlocked.Add(ref _bytes, written);
            bytes?.Report(total);
        }

        public void FileDone() => Interlocked.Increment(ref _files);
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
            using (var data = await await reads.TakeAsync())
            {
                await output.WriteAsync(data.Memory, ct);
                total += data.Memory.Length;
            }

            reads.Written();
            segments++;
        }

        await output.FlushAsync(ct);
        return new RestoreResult(setId, 1, total, segments);
    }

    /// <summary>
    /// Reads segments ahead, several at once (read, decompress and hash each on its own core), and hands them out in
    /// manifest order. At most <see cref="Depth"/> segments are read and not yet written (<see cref="Written"/>) at a
    /// time, however many files take them, so memory stays bounded whatever the set's shape.
    /// </summary>
    private sealed class SegmentPrefetch : IAsyncDisposable
    {
        private const int Depth = 6;
        private readonly System.Threading.Channels.Channel<Task<SegmentLease>> _ready = System.Threading.Channels.Channel.CreateUnbounded<Task<SegmentLease>>();
        private readonly SemaphoreSlim _held = new(Depth);
        private readonly CancellationTokenSource _stop;
        private readonly Task _producer;

        /// <summary>
        /// Room in the segment pool for the read-ahead's plaintexts (up to <see cref="Depth"/> at once; a segment of up
        /// to 8 MiB takes a 10 MiB buffer), so they are reused from segment to segment: the pool's own 32 MiB would keep
        /// about three of them and remake the others for every segment read ahead.
        /// </summary>
        private readonly IDisposable _buffers = Vault.Core.Buffers.SegmentBuffers.Pool.Reserve(Depth * (long)Vault.Core.Buffers.BoundedBufferPool.ClassLength((8 << 20) + 1));

        public SegmentPrefetch(ISegmentReader store, IEnumerable<string> hashes, CancellationToken ct)
        {
            _stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            _producer = Task.Run(async () =>
            {
                try
                {
                    foreach (var hash in hashes)
                    {
                        await _held.WaitAsync(_stop.Token);
                        _ready.Writer.TryWrite(Task.Run(() => store.LeaseAsync(SegmentHash.Parse(hash), _stop.Token)));
                    }

                    _ready.Writer.TryComplete();
                }
                catch (Exception ex)
                {
                    _ready.Writer.TryComplete(ex);
                }
            });
        }

        /// <summary>Cancelled when the restore stops: the caller's cancellation, or a writer's failure.</summary>
        public CancellationToken Stopping => _stop.Token;

        /// <summary>The next segment's read, in manifest order (awaiting it gives the segment).</summary>
        public async Task<Task<SegmentLease>> TakeAsync() => await _ready.Reader.ReadAsync(_stop.Token);

        /// <summary>A segment taken was written and its lease disposed: one more may be read ahead.</summary>
        public void Written() => _held.Release();

        /// <summary>A segment taken will not be written (its file failed): its lease is returned when the read ends.</summary>
        public void Abandon(Task<SegmentLease> taken) => _ = taken.ContinueWith(t =>
        {
            if (t.IsCompletedSuccessfully)
                t.Result.Dispose();
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        public Task StopAsync() => _stop.CancelAsync();

        /// <summary>Stops at once, before the caller goes on: every later take, wait and read sees it cancelled.</summary>
        public void Stop() => _stop.Cancel();

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
            _held.Dispose();
            _buffers.Dispose();
        }
    }

    /// <summary>A file's mode and modification time, set through its open handle (fchmod, futimens).</summary>
    private static void Apply(Microsoft.Win32.SafeHandles.SafeFileHandle file, ManifestEntry entry)
    {
        if (!OperatingSystem.IsWindows() && entry.Mode != 0)
            File.SetUnixFileMode(file, (UnixFileMode)entry.Mode);
        File.SetLastWriteTimeUtc(file, DateTimeOffset.FromUnixTimeMilliseconds(entry.MtimeUnixMs).UtcDateTime);
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
