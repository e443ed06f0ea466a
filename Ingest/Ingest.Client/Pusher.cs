using System.Security.Cryptography;
using System.Text.Json;
using Ingest.Client.Chunking;
using Ingest.Contracts;
using Vault.Core.Sets;
using ZstdSharp;

namespace Ingest.Client;

public sealed record PushOptions
{
    /// <summary>Segments in flight at once: sends are pipelined, never one confirm at a time.</summary>
    public int Window { get; init; } = 16;

    /// <summary>zstd level on the producer; 1 by default (level 3 compressed no better here at twice the CPU).</summary>
    public int CompressionLevel { get; init; } = 1;

    /// <summary>Chunks hashed ahead before asking the vault which it already holds.</summary>
    public int QueryBatch { get; init; } = 32;

    /// <summary>
    /// Bytes of frame buffers the push keeps for reuse between segments. The default keeps what the in-flight bound
    /// lets fly (less made a 1 GiB push in one process ~9% slower); a producer sending through RabbitMQ, which
    /// shares its host with what it backs up, keeps 16 MiB (<see cref="BrokerFramePoolBytes"/>): a 10 GiB push of
    /// small files peaked at 240–256 MB instead of 280 (docs/benchmarks.md).
    /// </summary>
    public long FramePoolBytes { get; init; } = 34L << 20;

    public const long BrokerFramePoolBytes = 16L << 20;
}

/// <summary>
/// The producer: walks a directory (or reads a stream), cuts content-defined chunks, asks the vault which it holds,
/// compresses and sends only the others with a window in flight, then seals the set with its manifest.
/// </summary>
public sealed class Pusher
{
    private readonly Task<IngestClient> _client;
    private readonly TimeProvider _clock;
    private readonly PushOptions _options;
    private readonly FastCdc _cdc = new();

    public Pusher(IngestClient client, TimeProvider clock, PushOptions? options = null)
        : this(Task.FromResult(client), clock, options)
    {
    }

    /// <param name="client">
    /// The client, possibly still connecting: a push walks, reads and hashes meanwhile and waits for it only to ask,
    /// send or seal (a bus start costs about 0.3 s, a good part of a push of a tree that barely changed).
    /// </param>
    public Pusher(Task<IngestClient> client, TimeProvider clock, PushOptions? options = null)
    {
        _client = client;
        _clock = clock;
        _options = options ?? new PushOptions();
    }

    private TimeProvider Clock => _clock;

    /// <param name="previous">The last manifest pushed from this source: files with the same path, size, mtime and inode are not read again.</param>
    public async Task<PushResult> PushTreeAsync(string root, string setId, string source, string name, IProgress<PushProgress>? progress, CancellationToken ct, Manifest? previous = null)
    {
        var full = Path.GetFullPath(root);
        if (!Directory.Exists(full))
            throw new Vault.Core.Errors.VaultConfigurationException($"{full} is not a directory; push a directory, or '-' for standard input.");
        await using var run = new Run(this, setId, new OpenSet { SetId = setId, Source = source, Name = name, Kind = "tree" }, progress, ct);
        var entries = new List<ManifestEntry>();
        var before = (previous?.Entries ?? []).Where(e => e.Type == "file").ToDictionary(e => e.Path, StringComparer.Ordinal);
        var unchanged = new List<(int Index, string Path)>();
        foreach (var (path, info) in Walk(full))
        {
            var relative = Path.GetRelativePath(full, path).Replace(Path.DirectorySeparatorChar, '/');
            var mode = OperatingSystem.IsWindows() ? 0 : (int)info.UnixFileMode;
            var mtime = new DateTimeOffset(info.LastWriteTimeUtc).ToUnixTimeMilliseconds();
            if (info.LinkTarget is { } target)
                entries.Add(new ManifestEntry(relative, "symlink", mode, mtime, 0, Target: target));
            else if (info is DirectoryInfo)
                entries.Add(new ManifestEntry(relative, "dir", mode, mtime, 0));
            else if (before.TryGetValue(relative, out var last) && last.Size == ((FileInfo)info).Length && last.MtimeUnixMs == mtime
                     && FileIdentity.InodeOf(path) is var inode && (last.Inode is null || inode is null || last.Inode == inode))
            {
                unchanged.Add((entries.Count, path));
                entries.Add(last with { Mode = mode, Inode = inode ?? last.Inode });
                run.FileDone(unchanged: true);
            }
            else
            {
                entries.Add(await ReadFileAsync(run, path, relative, mode, mtime));
            }
        }

        // Unchanged files' segments must still be in the vault (a governed deletion may have removed some): read again any that are not.
        var present = await (await run.ClientAsync()).QueryAsync([.. unchanged.SelectMany(u => entries[u.Index].Segments ?? []).Distinct(StringComparer.Ordinal)], ct);
        foreach (var (index, path) in unchanged.Where(u => entries[u.Index].Segments?.Any(h => !present.Contains(h)) == true))
            entries[index] = await ReadFileAsync(run, path, entries[index].Path, entries[index].Mode, entries[index].MtimeUnixMs);

        return await run.SealAsync(new Manifest(Manifest.CurrentFormat, setId, "tree", entries));
    }

    private static async Task<ManifestEntry> ReadFileAsync(Run run, string path, string relative, int mode, long mtime)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan); // unbuffered: the chunker reads megabytes at a time into its own buffer
        var (segments, size) = await run.AddStreamAsync(stream);
        run.FileDone();
        return new ManifestEntry(relative, "file", mode, mtime, size, segments, Inode: FileIdentity.InodeOf(path));
    }

    public async Task<PushResult> PushStreamAsync(Stream input, string setId, string source, string name, IProgress<PushProgress>? progress, CancellationToken ct)
    {
        await using var run = new Run(this, setId, new OpenSet { SetId = setId, Source = source, Name = name, Kind = "stream" }, progress, ct);
        var (segments, size) = await run.AddStreamAsync(input);
        run.FileDone();
        return await run.SealAsync(new Manifest(Manifest.CurrentFormat, setId, "stream", [new ManifestEntry("-", "stream", 0, 0, size, segments)]));
    }

    /// <summary>Depth-first, in ordinal name order, without following symbolic links.</summary>
    private static IEnumerable<(string Path, FileSystemInfo Info)> Walk(string directory)
    {
        var children = new DirectoryInfo(directory).EnumerateFileSystemInfos().OrderBy(i => i.Name, StringComparer.Ordinal);
        foreach (var child in children)
        {
            yield return (child.FullName, child);
            if (child is DirectoryInfo && child.LinkTarget is null)
            {
                foreach (var nested in Walk(child.FullName))
                    yield return nested;
            }
        }
    }

    /// <summary>One push: sequence numbers, the window of sends in flight, what is known to be in the vault, the counters.</summary>
    private sealed class Run : IAsyncDisposable
    {
        private readonly Pusher _pusher;
        private readonly string _setId;
        private readonly IProgress<PushProgress>? _progress;
        private readonly CancellationToken _ct;

        /// <summary>The client once connected and the set opened: started at once, awaited only where the vault is needed.</summary>
        private readonly Task<IngestClient> _opened;
        private readonly SemaphoreSlim _window;

        /// <summary>Frames lent to messages in flight, kept for reuse up to <see cref="PushOptions.FramePoolBytes"/>.</summary>
        private readonly Vault.Core.Buffers.BoundedBufferPool _frames;
        private readonly System.Collections.Concurrent.ConcurrentBag<Compressor> _compressors = []; // managed zstd: one context per compression at once
        private readonly List<Task> _inFlight = [];
        private readonly HashSet<string> _known = new(StringComparer.Ordinal);
        private readonly long _started;
        private long _sequence;
        private PushProgress _totals = new(0, 0, 0, 0, 0, 0, 0);

        public Run(Pusher pusher, string setId, OpenSet open, IProgress<PushProgress>? progress, CancellationToken ct)
        {
            _pusher = pusher;
            _setId = setId;
            _progress = progress;
            _ct = ct;
            _window = new SemaphoreSlim(pusher._options.Window);
            _frames = new Vault.Core.Buffers.BoundedBufferPool(pusher._options.FramePoolBytes);
            _started = pusher.Clock.GetTimestamp();
            _opened = OpenAsync(pusher._client, open, ct);
        }

        private static async Task<IngestClient> OpenAsync(Task<IngestClient> connecting, OpenSet open, CancellationToken ct)
        {
            var client = await connecting;
            await client.OpenAsync(open, ct);
            return client;
        }

        public Task<IngestClient> ClientAsync() => _opened;

        /// <summary>Chunks not yet asked about, across files, so many small files share one query.</summary>
        private readonly List<(long Sequence, string Hash, PooledChunk Data)> _pending = [];
        private long _pendingBytes;

        public async Task<(IReadOnlyList<string> Segments, long Size)> AddStreamAsync(Stream stream)
        {
            var hashes = new List<string>();
            long size = 0;
            await foreach (var chunk in _pusher._cdc.ChunkPooledAsync(stream, _ct))
            {
                var hash = Convert.ToHexStringLower(SHA256.HashData(chunk.Memory.Span));
                hashes.Add(hash);
                size += chunk.Length;
                _totals = _totals with { BytesRead = _totals.BytesRead + chunk.Length, Segments = _totals.Segments + 1 };
                _pending.Add((_sequence++, hash, chunk)); // the chunk's ordinal in the push: the same data gives the same numbers, so a rerun is idempotent
                _pendingBytes += chunk.Length;
                if (_pending.Count >= _pusher._options.QueryBatch || _pendingBytes >= MaxPendingBytes)
                    await FlushAsync();
            }

            return (hashes, size);
        }

        public void FileDone(bool unchanged = false) =>
            Report(_totals with { Files = _totals.Files + 1, FilesUnchanged = _totals.FilesUnchanged + (unchanged ? 1 : 0) });

        public async Task<PushResult> SealAsync(Manifest manifest)
        {
            await FlushAsync();
            await Task.WhenAll(_inFlight);
            var bytes = manifest.ToBytes();
            using var compressor = new Compressor(_pusher._options.CompressionLevel);
            var reply = await (await _opened).SealAsync(new SealSet
            {
                SetId = _setId, SegmentCount = _sequence, ManifestSha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)), ManifestLength = bytes.Length,
                ManifestEncoding = "zstd", Manifest = compressor.Wrap(bytes).ToArray(),
            }, _ct);
            Report(_totals);
            return new PushResult(_setId, reply.Sha256!, _totals, _pusher.Clock.GetElapsedTime(_started), manifest);
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                await Task.WhenAll(_inFlight);
            }
            catch
            {
                // the first failure was already thrown to the caller
            }

            // After the sends: a chunk handed to one may still be in its compressor until then (disposing twice is harmless).
            foreach (var (_, _, chunk) in _pending)
                chunk.Dispose();

            _window.Dispose();
            _compressing.Dispose();
            foreach (var compressor in _compressors)
                compressor.Dispose();
        }

        /// <summary>
        /// Chunk bytes held before asking the vault which it holds: a few chunks, so their buffers come back to the
        /// segment pool (four per size) instead of new arrays (24 MiB here allocated 200 MB more per GiB pushed).
        /// </summary>
        private const long MaxPendingBytes = 8 * 1024 * 1024;

        /// <summary>Compressed bytes sent and not yet answered, at most (besides one segment that alone exceeds it).</summary>
        private const long MaxInFlightBytes = 24 * 1024 * 1024;

        private long _inFlightBytes;
        private long _bytesSent;

        /// <summary>
        /// Chunks handed to compression and not yet compressed: one per core. More would only wait for a core while
        /// holding their chunk buffers (the segment pool keeps four per size; past that each is a fresh array).
        /// </summary>
        private readonly SemaphoreSlim _compressing = new(Environment.ProcessorCount);

        private async Task FlushAsync()
        {
            var pending = _pending;
            if (pending.Count == 0)
                return;
            var unknown = pending.Select(p => p.Hash).Where(h => !_known.Contains(h)).Distinct(StringComparer.Ordinal).ToArray();
            var client = await _opened;
            var present = await client.QueryAsync(unknown, _ct);
            foreach (var (sequence, hash, chunk) in pending)
            {
                if (!_known.Add(hash) || present.Contains(hash))
                {
                    chunk.Dispose();
                    _totals = _totals with { SegmentsDeduplicated = _totals.SegmentsDeduplicated + 1 };
                    continue;
                }

                try
                {
                    await _window.WaitAsync(_ct);
                }
                catch
                {
                    chunk.Dispose();
                    throw;
                }

                _inFlight.RemoveAll(t => t.IsCompletedSuccessfully);
                if (_inFlight.FirstOrDefault(t => t.IsFaulted) is { } failed)
                {
                    chunk.Dispose();
                    _window.Release();
                    await failed; // surface the first refusal now
                }

                // The window bounds the count in flight; this bounds the bytes, so eight 8 MiB segments cannot pile up
                // (counted at the plain length until the frame is made, then at the frame's).
                while (Interlocked.Read(ref _inFlightBytes) + chunk.Length > MaxInFlightBytes && _inFlight.FirstOrDefault(t => !t.IsCompleted) is not null)
                    await Task.WhenAny(_inFlight.Where(t => !t.IsCompleted));
                Interlocked.Add(ref _inFlightBytes, chunk.Length);
                _totals = _totals with { SegmentsSent = _totals.SegmentsSent + 1 };
                await _compressing.WaitAsync(CancellationToken.None); // released by a compression that ends, whatever its outcome
                _inFlight.Add(Task.Run(() => CompressAndSendAsync(client, sequence, hash, chunk)));
            }

            pending.Clear();
            _pendingBytes = 0;
            Report(_totals);
        }

        /// <summary>
        /// Compresses into a buffer of this push's frame pool: the message borrows it until it is answered, then it
        /// holds the next frame. A fresh array per frame cost page faults and a full collection every few segments
        /// (docs/benchmarks.md).
        /// </summary>
        private (byte[] Buffer, int Length) Compress(ReadOnlySpan<byte> data)
        {
            var buffer = _frames.Rent(Compressor.GetCompressBound(data.Length));
            try
            {
                var length = Vault.Core.Compression.NativeZstd.Available && data.Length > 0
                    ? Vault.Core.Compression.NativeZstd.Compress(data, buffer, _pusher._options.CompressionLevel)
                    : WrapManaged(data, buffer);
                return (buffer, length);
            }
            catch
            {
                _frames.Return(buffer);
                throw;
            }
        }

        private int WrapManaged(ReadOnlySpan<byte> data, byte[] buffer)
        {
            if (!_compressors.TryTake(out var compressor))
                compressor = new Compressor(_pusher._options.CompressionLevel);
            try
            {
                return compressor.Wrap(data, buffer);
            }
            finally
            {
                _compressors.Add(compressor);
            }
        }

        /// <summary>
        /// Compresses one chunk and sends its frame, on a pool thread: the push's own flow goes on reading, cutting
        /// and hashing meanwhile, so on a machine with more than one core the compression (the largest single cost of
        /// a push) is not in series with the reading (docs/architecture.md, "Push"). To a vault in this process the
        /// chunk goes along and is kept until the answer: the vault compares the frame with it instead of hashing the
        /// frame's plaintext again (docs/architecture.md, "Embedded push"); both count against the bytes in flight.
        /// </summary>
        private async Task CompressAndSendAsync(IngestClient client, long sequence, string hash, PooledChunk chunk)
        {
            byte[] buffer;
            int length, plain = chunk.Length;
            var kept = client.InProcess;
            try
            {
                try
                {
                    (buffer, length) = Compress(chunk.Memory.Span);
                }
                catch
                {
                    Interlocked.Add(ref _inFlightBytes, -plain);
                    _window.Release();
                    throw;
                }
                finally
                {
                    _compressing.Release();
                    if (!kept)
                        chunk.Dispose();
                }

                var held = kept ? plain + length : length;
                Interlocked.Add(ref _inFlightBytes, held - plain);
                Interlocked.Add(ref _bytesSent, length);
                var message = new PutSegment { SetId = _setId, Sequence = sequence, Sha256 = hash, Length = plain, Encoding = "zstd", Data = buffer.AsMemory(0, length) };
                try
                {
                    if (kept)
                        await client.PutAsync(message, chunk.Memory, _ct);
                    else
                        await client.PutAsync(message, _ct);
                    // Answered: every sender is done with the bytes (the bus copied them, the broker confirmed them, the
                    // handler in this process wrote them). After a failure the buffer is left to the collector instead.
                    _frames.Return(buffer);
                }
                finally
                {
                    Interlocked.Add(ref _inFlightBytes, -held);
                    _window.Release();
                }
            }
            finally
            {
                chunk.Dispose(); // disposing twice is harmless
            }
        }

        private void Report(PushProgress totals)
        {
            _totals = totals with { BytesSent = Interlocked.Read(ref _bytesSent) };
            _progress?.Report(_totals);
        }
    }
}
