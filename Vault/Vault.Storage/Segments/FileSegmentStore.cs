using Vault.Core.Errors;
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Vault.Core.Segments;
using ZstdSharp;

namespace Vault.Storage.Segments;

public sealed record SegmentStoreOptions
{
    /// <summary>The largest plaintext segment accepted (the chunker's maximum is 8 MiB).</summary>
    public int MaxSegmentBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>zstd level for segments that arrive uncompressed; level 3 is zstd's default, 1 is faster.</summary>
    public int CompressionLevel { get; init; } = 3;

    /// <summary>
    /// On Linux, write each segment as an unnamed file and name it once durable (O_TMPFILE, linkat) instead of under a
    /// temporary name; false forces the temporary-name path every platform has (tests run both).
    /// </summary>
    public bool UnnamedTemporaryFiles { get; init; } = true;

    /// <summary>
    /// How long new segment files wait, at most, for other writers already verifying or writing theirs, so they are
    /// made durable together (unnamed files only; a writer alone does not wait).
    /// </summary>
    public TimeSpan GroupGather { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>The most new segment files made durable together.</summary>
    public int MaxGroup { get; init; } = 64;

    /// <summary>The clock the gathering wait runs on.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;
}

/// <summary>
/// Segments as files under a root: <c>ab/abcdef….zst</c>, a zstd frame of the plaintext. Written read-only into an
/// unnamed file (Linux) or under a temporary name, made durable, given its final name (never over an existing one),
/// and the name made durable, so a segment is either whole and durable or absent. On Linux the new files of
/// concurrent writers are made durable and named in groups (<see cref="GroupDurability"/>).
/// </summary>
public sealed partial class FileSegmentStore(string root, SegmentStoreOptions? options = null) : ISegmentStore
{
    private readonly SegmentStoreOptions _options = options ?? new SegmentStoreOptions();

    [ThreadStatic]
    private static Decompressor? _decompressor;

    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>Whether segments are written as unnamed files and named once durable (Linux, unless unsupported here).</summary>
    public bool WritesUnnamed => UnnamedTemporaryFiles.Usable(_options);

    public async Task<SegmentPut> PutAsync(SegmentHash hash, ReadOnlyMemory<byte> plaintext, CancellationToken cancellationToken = default)
    {
        if (plaintext.Length > _options.MaxSegmentBytes)
            throw new SegmentRejectedException("too-large", $"The segment is {plaintext.Length} bytes; the limit is {_options.MaxSegmentBytes}. Chunk it smaller.");
        using var arrival = Arrive();
        CheckHash(hash, plaintext.Span);
        if (File.Exists(PathOf(hash)))
            return await ExistingAsync(hash);
        var buffer = Vault.Core.Buffers.SegmentBuffers.Pool.Rent(Compressor.GetCompressBound(plaintext.Length));
        try
        {
            // Only for identity segments: producers normally send zstd.
            int length;
            if (Vault.Core.Compression.NativeZstd.Available && plaintext.Length > 0)
            {
                length = Vault.Core.Compression.NativeZstd.Compress(plaintext.Span, buffer, _options.CompressionLevel);
            }
            else
            {
                using var compressor = new Compressor(_options.CompressionLevel);
                length = compressor.Wrap(plaintext.Span, buffer);
            }
            return await WriteAsync(hash, buffer.AsMemory(0, length), arrival, cancellationToken);
        }
        finally
        {
            Vault.Core.Buffers.SegmentBuffers.Pool.Return(buffer);
        }
    }

    public async Task<SegmentPut> PutCompressedAsync(SegmentHash hash, long plaintextLength, ReadOnlyMemory<byte> zstdFrame, CancellationToken cancellationToken = default)
    {
        if (plaintextLength < 0 || plaintextLength > _options.MaxSegmentBytes)
            throw new SegmentRejectedException("too-large", $"The segment declares {plaintextLength} bytes; the limit is {_options.MaxSegmentBytes}.");
        using var arrival = Arrive();
        var (written, actual) = HashFrame(zstdFrame.Span, plaintextLength, bad => new SegmentRejectedException(bad.Code, bad.Message));
        if (written != plaintextLength)
            throw new SegmentRejectedException("length-mismatch", $"it decompresses to {written} bytes, not the declared {plaintextLength}");
        if (actual != hash)
            throw new SegmentRejectedException("hash-mismatch", $"The segment's SHA-256 is {actual}, not the declared {hash}; nothing was stored. Resend it.");

        return await StoreCheckedAsync(hash, zstdFrame, arrival, cancellationToken);
    }

    public async Task<SegmentPut> PutFrameMadeFromAsync(SegmentHash hash, ReadOnlyMemory<byte> plaintext, ReadOnlyMemory<byte> zstdFrame, CancellationToken cancellationToken = default)
    {
        if (plaintext.Length > _options.MaxSegmentBytes)
            throw new SegmentRejectedException("too-large", $"The segment is {plaintext.Length} bytes; the limit is {_options.MaxSegmentBytes}. Chunk it smaller.");
        using var arrival = Arrive();
        if (CompareFrame(zstdFrame.Span, plaintext.Span, bad => new SegmentRejectedException(bad.Code, bad.Message)) is { } difference)
            throw new SegmentRejectedException("content-mismatch", $"The frame for segment {hash} does not decompress to the bytes it was made from ({difference}); nothing was stored. Push again.");
        Interlocked.Increment(ref _framesCompared);
        return await StoreCheckedAsync(hash, zstdFrame, arrival, cancellationToken);
    }

    /// <summary>Frames checked by comparison with the plaintext they were made from (<see cref="PutFrameMadeFromAsync"/>) rather than by hash.</summary>
    public long FramesCompared => Interlocked.Read(ref _framesCompared);

    private long _framesCompared;

    /// <summary>A frame already checked: answered from the file when the name is taken, else written.</summary>
    private async Task<SegmentPut> StoreCheckedAsync(SegmentHash hash, ReadOnlyMemory<byte> zstdFrame, GroupDurability.Arrival? arrival, CancellationToken cancellationToken)
    {
        if (File.Exists(PathOf(hash)))
            return await ExistingAsync(hash);
        return await WriteAsync(hash, zstdFrame, arrival, cancellationToken);
    }

    public async Task<bool> ContainsAsync(SegmentHash hash, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(PathOf(hash)))
            return false;
        await _durability.SettledAsync(PathOf(hash)); // a name this store gave is counted once it is durable
        return true;
    }

    /// <summary>A segment found already stored, answered once its name is durable (it may be in a group still syncing).</summary>
    private async Task<SegmentPut> ExistingAsync(SegmentHash hash)
    {
        var path = PathOf(hash);
        await _durability.SettledAsync(path);
        return new SegmentPut(hash, false, new FileInfo(path).Length);
    }

    /// <summary>The bytes a segment takes stored, or null when the store does not hold it.</summary>
    public long? StoredLength(SegmentHash hash)
    {
        var file = new FileInfo(PathOf(hash));
        return file.Exists ? file.Length : null;
    }

    public async Task<byte[]> ReadStoredAsync(SegmentHash hash, CancellationToken cancellationToken = default)
    {
        try
        {
            return await File.ReadAllBytesAsync(PathOf(hash), cancellationToken);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new SegmentNotFoundException($"Segment {hash} is not in the store at {Root}.");
        }
    }

    /// <summary>Reads and verifies a segment through pooled buffers: the stored frame and the plaintext both come from the segment pool.</summary>
    public async Task<SegmentLease> LeaseAsync(SegmentHash hash, CancellationToken cancellationToken = default)
    {
        var pool = Vault.Core.Buffers.SegmentBuffers.Pool;
        byte[] frame;
        int frameLength;
        try
        {
            using var handle = File.OpenHandle(PathOf(hash), FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.Asynchronous);
            frameLength = (int)RandomAccess.GetLength(handle);
            frame = pool.Rent(frameLength);
            var read = 0;
            while (read < frameLength)
            {
                var n = await RandomAccess.ReadAsync(handle, frame.AsMemory(read, frameLength - read), read, cancellationToken);
                if (n == 0)
                    break;
                read += n;
            }

            frameLength = read;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new SegmentNotFoundException($"Segment {hash} is not in the store at {Root}.");
        }

        byte[]? plaintext = null;
        try
        {
            var fail = (Func<(string Code, string Message), Exception>)(bad => new SegmentCorruptException($"Segment {hash} at {PathOf(hash)} is damaged ({bad.Message}). Restore it from another site's copy."));
            ulong declared;
            try
            {
                declared = Decompressor.GetDecompressedSize(frame.AsSpan(0, frameLength));
            }
            catch (ZstdException ex)
            {
                throw fail(("bad-encoding", ex.Message));
            }

            var limit = declared > 0 && declared <= (ulong)_options.MaxSegmentBytes ? (int)declared : _options.MaxSegmentBytes;
            plaintext = pool.Rent(limit + 1);
            var written = DecompressInto(frame.AsSpan(0, frameLength), plaintext.AsSpan(0, limit + 1), fail);
            if (written > limit || (declared > 0 && (ulong)written != declared))
                throw fail(("length-mismatch", $"it decompresses to {written} bytes, not the {declared} its frame declares"));
            if (SegmentHash.Of(plaintext.AsSpan(0, written)) != hash)
                throw new SegmentCorruptException($"Segment {hash} at {PathOf(hash)} no longer matches its hash. Restore it from another site's copy.");
            var lease = new SegmentLease(plaintext, written, lent => pool.Return(lent));
            plaintext = null;
            return lease;
        }
        finally
        {
            pool.Return(frame);
            if (plaintext is not null)
                pool.Return(plaintext);
        }
    }

    /// <summary>
    /// Checks a stored segment as a scrub does: its frame read whole, decompressed a piece at a time and hashed while
    /// each piece is in cache, the plaintext never held. Returns the plaintext's length; throws as <see cref="LeaseAsync"/> does.
    /// </summary>
    public long Verify(SegmentHash hash) => Verify(hash, null).Plaintext;

    /// <summary>
    /// As <see cref="Verify(SegmentHash)"/>, but when <paramref name="storedSha256"/> (the SHA-256 the log recorded for
    /// the file when it was written) matches the file's bytes, the file is exactly what was verified at ingest and is
    /// not decompressed (Plaintext is then -1, Deep false). Any other file is decompressed and hashed as before, so a
    /// file rewritten with another frame of the same content passes and a damaged one is named.
    /// </summary>
    public (long Plaintext, bool Deep) Verify(SegmentHash hash, string? storedSha256)
    {
        var pool = Vault.Core.Buffers.SegmentBuffers.Pool;
        byte[] frame;
        int frameLength;
        try
        {
            using var handle = File.OpenHandle(PathOf(hash), FileMode.Open, FileAccess.Read, FileShare.Read);
            frameLength = (int)RandomAccess.GetLength(handle);
            frame = pool.Rent(frameLength);
            var read = 0;
            while (read < frameLength && RandomAccess.Read(handle, frame.AsSpan(read, frameLength - read), read) is var n and > 0)
                read += n;
            frameLength = read;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new SegmentNotFoundException($"Segment {hash} is not in the store at {Root}.");
        }

        try
        {
            if (storedSha256 is not null)
            {
                Span<byte> digest = stackalloc byte[32];
                System.Security.Cryptography.SHA256.HashData(frame.AsSpan(0, frameLength), digest);
                if (Convert.ToHexStringLower(digest) == storedSha256)
                    return (-1, false);
            }

            var (written, actual) = HashFrame(frame.AsSpan(0, frameLength), _options.MaxSegmentBytes,
                bad => new SegmentCorruptException($"Segment {hash} at {PathOf(hash)} is damaged ({bad.Message}). Restore it from another site's copy."));
            if (actual != hash)
                throw new SegmentCorruptException($"Segment {hash} at {PathOf(hash)} no longer matches its hash. Restore it from another site's copy.");
            return (written, true);
        }
        finally
        {
            pool.Return(frame);
        }
    }

    /// <summary>
    /// The length and SHA-256 of a frame's plaintext, which may be at most <paramref name="limit"/> bytes and must be as
    /// long as the frame declares. Through libzstd the plaintext streams through a small window into the hash; with the
    /// managed port it is decompressed into a pooled buffer first, then hashed.
    /// </summary>
    private static (long Length, SegmentHash Hash) HashFrame(ReadOnlySpan<byte> frame, long limit, Func<(string Code, string Message), Exception> fail)
    {
        var declared = DeclaredSize(frame, fail);

        long written;
        SegmentHash actual;
        if (Vault.Core.Compression.NativeZstd.Available)
        {
            var sink = new HashSink(_hasher ??= System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256));
            written = Vault.Core.Compression.NativeZstd.DecompressTo(frame, _window ??= new byte[WindowBytes], limit, ref sink, out var error, out var tooLarge);
            Span<byte> digest = stackalloc byte[32];
            _hasher.GetHashAndReset(digest); // also resets a hash an error left half-fed
            if (error is not null)
                throw tooLarge ? fail(("length-mismatch", error)) : fail(("bad-encoding", $"not a valid zstd frame: {error}"));
            actual = SegmentHash.FromDigest(digest);
        }
        else
        {
            var plaintext = Vault.Core.Buffers.SegmentBuffers.Pool.Rent((int)limit + 1);
            try
            {
                written = DecompressInto(frame, plaintext.AsSpan(0, (int)limit + 1), fail);
                if (written > limit)
                    throw fail(("length-mismatch", $"it decompresses to more than {limit} bytes"));
                actual = SegmentHash.Of(plaintext.AsSpan(0, (int)written));
            }
            finally
            {
                Vault.Core.Buffers.SegmentBuffers.Pool.Return(plaintext);
            }
        }

        if (declared > 0 && (ulong)written != declared)
            throw fail(("length-mismatch", $"it decompresses to {written} bytes, not the {declared} its frame declares"));
        return (written, actual);
    }

    /// <summary>The plaintext length a frame declares (0 when it declares none); a frame that is not zstd throws through <paramref name="fail"/>.</summary>
    private static ulong DeclaredSize(ReadOnlySpan<byte> frame, Func<(string Code, string Message), Exception> fail)
    {
        try
        {
            return Decompressor.GetDecompressedSize(frame);
        }
        catch (ZstdException ex)
        {
            throw fail(("bad-encoding", $"not a valid zstd frame: {ex.Message}"));
        }
    }

    /// <summary>
    /// Null when <paramref name="frame"/> decompresses to exactly <paramref name="expected"/>; otherwise what differs.
    /// Through libzstd the plaintext streams through the same small window as <see cref="HashFrame"/> and is compared
    /// a piece at a time; with the managed port it is decompressed into a pooled buffer first. A frame that is not
    /// valid zstd throws through <paramref name="fail"/>, as in <see cref="HashFrame"/>.
    /// </summary>
    private static string? CompareFrame(ReadOnlySpan<byte> frame, ReadOnlySpan<byte> expected, Func<(string Code, string Message), Exception> fail)
    {
        var declared = DeclaredSize(frame, fail);

        long written;
        var differs = false;
        if (Vault.Core.Compression.NativeZstd.Available)
        {
            var sink = new CompareSink(expected);
            written = Vault.Core.Compression.NativeZstd.DecompressTo(frame, _window ??= new byte[WindowBytes], expected.Length, ref sink, out var error, out var tooLarge);
            if (error is not null && !tooLarge)
                throw fail(("bad-encoding", $"not a valid zstd frame: {error}"));
            differs = sink.Differs;
        }
        else
        {
            var plaintext = Vault.Core.Buffers.SegmentBuffers.Pool.Rent(expected.Length + 1);
            try
            {
                written = DecompressInto(frame, plaintext.AsSpan(0, expected.Length + 1), fail);
                differs = written == expected.Length && !plaintext.AsSpan(0, expected.Length).SequenceEqual(expected);
            }
            finally
            {
                Vault.Core.Buffers.SegmentBuffers.Pool.Return(plaintext);
            }
        }

        if (written != expected.Length)
            return written > expected.Length ? $"it decompresses to more than {expected.Length} bytes" : $"it decompresses to {written} bytes, not {expected.Length}";
        if (differs)
            return "the bytes differ";
        return declared > 0 && declared != (ulong)written ? $"it declares {declared} bytes and holds {written}" : null;
    }

    /// <summary>Compares each decompressed piece with the next stretch of the expected plaintext.</summary>
    private ref struct CompareSink(ReadOnlySpan<byte> expected) : Vault.Core.Compression.IPlaintextSink
    {
        private readonly ReadOnlySpan<byte> _expected = expected;
        private int _offset;

        public bool Differs { get; private set; }

        public void Write(ReadOnlySpan<byte> piece)
        {
            if (!Differs && (piece.Length > _expected.Length - _offset || !piece.SequenceEqual(_expected.Slice(_offset, piece.Length))))
                Differs = true;
            _offset += piece.Length;
        }
    }

    /// <summary>The window plaintext streams through: small enough to stay in the core's cache between zstd and SHA-256.</summary>
    private const int WindowBytes = 128 * 1024;

    [ThreadStatic]
    private static byte[]? _window;

    [ThreadStatic]
    private static System.Security.Cryptography.IncrementalHash? _hasher;

    private readonly struct HashSink(System.Security.Cryptography.IncrementalHash hash) : Vault.Core.Compression.IPlaintextSink
    {
        public void Write(ReadOnlySpan<byte> piece) => hash.AppendData(piece);
    }

    public async Task<byte[]> ReadAsync(SegmentHash hash, CancellationToken cancellationToken = default)
    {
        using var lease = await LeaseAsync(hash, cancellationToken);
        return lease.Memory.ToArray();
    }

    public const string RemovalsLockFile = ".removals.lock";

    public async Task<IAsyncDisposable> LockRemovalsAsync(CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(Root);
        var path = Path.Combine(Root, RemovalsLockFile);
        while (true)
        {
            try
            {
                // FileShare.None takes an exclusive advisory lock (flock) on Unix: one holder at a time, in any process.
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            }
            catch (IOException) when (File.Exists(path))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System, cancellationToken);
            }
        }
    }

    public Task<bool> RemoveAsync(SegmentHash hash, CancellationToken cancellationToken = default)
    {
        var path = PathOf(hash);
        if (!File.Exists(path))
            return Task.FromResult(false);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Delete(path);
        SyncDirectory(Path.GetDirectoryName(path)!);
        return Task.FromResult(true);
    }

    public async IAsyncEnumerable<SegmentHash> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (!Directory.Exists(Root))
            yield break;
        foreach (var file in Directory.EnumerateFiles(Root, "*.zst", SearchOption.AllDirectories))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (SegmentHash.TryParse(Path.GetFileNameWithoutExtension(file), out var hash))
                yield return hash;
        }

        await Task.CompletedTask;
    }

    private string PathOf(SegmentHash hash) => Path.Combine(Root, hash.Hex[..2], hash.Hex + ".zst");

    /// <summary>A new segment on its way to the unnamed path's group (null on the named path).</summary>
    private GroupDurability.Arrival? Arrive() => UnnamedTemporaryFiles.Usable(_options) ? _durability.Expect() : null;

    private async Task<SegmentPut> WriteAsync(SegmentHash hash, ReadOnlyMemory<byte> frame, GroupDurability.Arrival? arrival, CancellationToken cancellationToken)
    {
        var final = PathOf(hash);
        var directory = Path.GetDirectoryName(final)!;
        // Of the bytes about to be written (in cache now): recorded in the log, so a scrub checks them without decompressing.
        var storedSha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(frame.Span));
        var prefix = int.Parse(hash.Hex.AsSpan(0, 2), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            // Each of the 256 prefix directories is made once per process, not asked for again on every write (a
            // failing mkdir per segment was 1% of a push); one removed meanwhile is made again below.
            if (!Volatile.Read(ref _prefixMade[prefix]))
            {
                Directory.CreateDirectory(directory);
                Volatile.Write(ref _prefixMade[prefix], true);
            }

            var unnamed = arrival is not null && UnnamedTemporaryFiles.Usable(_options) ? await WriteUnnamedAsync(directory, final, frame, arrival) : null;
            var published = unnamed ?? await WriteNamedAsync(final, directory, frame, cancellationToken);
            if (!published)
                return await ExistingAsync(hash); // another writer stored it first
            if (unnamed is null)
                SyncDirectory(directory); // the unnamed path's group already synced the name
            return new SegmentPut(hash, true, frame.Length, storedSha256);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A full disk, a read-only or vanished mount: nothing partial stays (no name over an unsynced file, no temporary name).
            throw new StorageUnavailableException(
                $"The segment store at {Root} could not be written ({ex.Message.TrimEnd('.')}); nothing partial was kept. Free space or fix the mount, then send the segment again.", ex);
        }
    }

    /// <summary>
    /// Linux: the frame written into an unnamed file of the prefix directory (<c>O_TMPFILE</c>), then handed to the
    /// store's <see cref="GroupDurability"/>, which syncs it with the other new files of its group and gives it its
    /// final name with <c>linkat</c>, which fails when the name exists, so a name appears only over durable bytes and
    /// of many writers of one segment exactly one publishes it. No temporary name is created and removed (two
    /// directory changes fewer per segment), and a failed or interrupted write leaves nothing with a name. Null when
    /// this file system or kernel has no unnamed files (the caller then writes under a temporary name).
    /// </summary>
    private async Task<bool?> WriteUnnamedAsync(string directory, string final, ReadOnlyMemory<byte> frame, GroupDurability.Arrival arrival)
    {
        const int ReadOnlyMode = 0x124; // 0444: later opens cannot write; this descriptor still can
        var fd = Open(directory, UnnamedTemporaryFiles.Flags, ReadOnlyMode);
        if (fd < 0 && Marshal.GetLastPInvokeError() == 2) // ENOENT: the prefix directory was removed since it was made
        {
            Directory.CreateDirectory(directory);
            fd = Open(directory, UnnamedTemporaryFiles.Flags, ReadOnlyMode);
        }

        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno is 95 or 21 or 22) // EOPNOTSUPP, EISDIR, EINVAL: no unnamed files here
            {
                UnnamedTemporaryFiles.Unsupported();
                return null;
            }

            throw new IOException($"creating a file in {directory} failed: {Marshal.GetPInvokeErrorMessage(errno)}");
        }

        using var handle = new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true);
        RandomAccess.Write(handle, frame.Span, 0);
        return await _durability.PublishAsync(arrival, handle, final);
    }

    /// <summary>Names a durable unnamed file (see <see cref="WriteUnnamedAsync"/>).</summary>
    private static bool? NameDurable(Microsoft.Win32.SafeHandles.SafeFileHandle file, string final)
    {
        if (LinkAt(AtFdCwd, $"/proc/self/fd/{file.DangerousGetHandle()}", AtFdCwd, final, AtSymlinkFollow) == 0)
            return true;
        var linkErrno = Marshal.GetLastPInvokeError();
        if (linkErrno == EExist)
            return false;
        if (linkErrno == 2) // ENOENT: the prefix directory went meanwhile; the named path makes it again
            return null;
        if (NoHardLinks(linkErrno))
        {
            UnnamedTemporaryFiles.Unsupported();
            return null;
        }

        throw new IOException($"naming a new segment {final} failed: {Marshal.GetPInvokeErrorMessage(linkErrno)}");
    }

    private readonly GroupDurability _durability = NewGroup(options ?? new SegmentStoreOptions());

    private static GroupDurability NewGroup(SegmentStoreOptions options) => new(NameDurable, options.Clock, options.GroupGather, options.MaxGroup);

    /// <summary>How many groups of new segment files were made durable together, and how many files they held (Linux, unnamed files).</summary>
    public (long Groups, long Files) DurableGroups => (_durability.Groups, _durability.Files);

    private const int AtFdCwd = -100;
    private const int AtSymlinkFollow = 0x400;

    [LibraryImport("libc", EntryPoint = "linkat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int LinkAt(int oldDirectory, string oldPath, int newDirectory, string newPath, int flags);

    /// <summary>Whether segments are written as unnamed files first (Linux on x64 or arm64, where the flags are known).</summary>
    private static class UnnamedTemporaryFiles
    {
        /// <summary>O_TMPFILE | O_WRONLY | O_CLOEXEC on x64 and arm64 (the generic flag values).</summary>
        public const int Flags = 0x410000 | 0x1 | 0x80000;

        private static volatile bool _unsupported = !OperatingSystem.IsLinux()
            || RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.Arm64)
            || !Directory.Exists("/proc/self/fd"); // the descriptor is named through /proc to link it

        public static bool Usable(SegmentStoreOptions options) => options.UnnamedTemporaryFiles && !_unsupported;

        public static void Unsupported() => _unsupported = true;
    }

    /// <summary>
    /// The portable path: a temporary name in the prefix directory, fsynced, then published (link, or a move); true
    /// when this writer published it. The temporary name never outlives the call.
    /// </summary>
    private static async Task<bool> WriteNamedAsync(string final, string directory, ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        var temp = Path.Combine(directory, $".tmp-{Guid.NewGuid():N}");
        try
        {
            FileStream stream;
            try
            {
                stream = CreateReadOnly(temp);
            }
            catch (DirectoryNotFoundException)
            {
                Directory.CreateDirectory(directory);
                stream = CreateReadOnly(temp);
            }

            await using (stream)
            {
                await stream.WriteAsync(frame, cancellationToken);
                stream.Flush(flushToDisk: true);
            }

            return Publish(temp, final);
        }
        finally
        {
            try
            {
                if (File.Exists(temp))
                    File.Delete(temp);
            }
            catch (IOException)
            {
                // the write already failed and says so; a temporary file left behind is never read as a segment
            }
        }
    }

    /// <summary>
    /// A new file, created read-only (0444: the mode applies to later opens, this descriptor may still write), so no
    /// chmod follows each write.
    /// </summary>
    private static FileStream CreateReadOnly(string path)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 1, Options = FileOptions.Asynchronous };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        return new FileStream(path, options);
    }

    private readonly bool[] _prefixMade = new bool[256];

    private static void CheckHash(SegmentHash declared, ReadOnlySpan<byte> plaintext)
    {
        var actual = SegmentHash.Of(plaintext);
        if (actual != declared)
            throw new SegmentRejectedException("hash-mismatch", $"The segment's SHA-256 is {actual}, not the declared {declared}; nothing was stored. Resend it.");
    }

    /// <summary>
    /// Decompresses a frame of at most <paramref name="limit"/> bytes. When the frame declares its size (within the
    /// limit), exactly that much is allocated and the frame must fill it; otherwise it goes through a pooled buffer one
    /// byte larger than allowed, so a frame that would grow past the limit (a bomb, or a lie) is caught without
    /// allocating more. With <paramref name="exact"/>, the output must be exactly <paramref name="limit"/> bytes.
    /// </summary>
    public static byte[] Decompress(ReadOnlySpan<byte> frame, int limit, bool exact, Func<(string Code, string Message), Exception> fail)
    {
        var declared = DeclaredSize(frame, fail);

        if (declared > 0 && declared <= (ulong)limit && (!exact || declared == (ulong)limit))
        {
            var output = GC.AllocateUninitializedArray<byte>((int)declared);
            var written = DecompressInto(frame, output, fail);
            if (written != output.Length)
                throw fail(("length-mismatch", $"it decompresses to {written} bytes, not the {declared} its frame declares"));
            return output;
        }

        var buffer = Vault.Core.Buffers.SegmentBuffers.Pool.Rent(limit + 1);
        try
        {
            var written = DecompressInto(frame, buffer.AsSpan(0, limit + 1), fail);
            if (written > limit)
                throw fail(("length-mismatch", $"it decompresses to more than {limit} bytes"));
            if (exact && written != limit)
                throw fail(("length-mismatch", $"it decompresses to {written} bytes, not the declared {limit}"));
            return buffer.AsSpan(0, written).ToArray();
        }
        finally
        {
            Vault.Core.Buffers.SegmentBuffers.Pool.Return(buffer);
        }
    }

    /// <summary>Decompresses into <paramref name="output"/>; a frame that does not fit, or is not zstd, fails.</summary>
    private static int DecompressInto(ReadOnlySpan<byte> frame, Span<byte> output, Func<(string Code, string Message), Exception> fail)
    {
        if (Vault.Core.Compression.NativeZstd.Available && frame.Length > 0 && output.Length > 0)
        {
            if (!Vault.Core.Compression.NativeZstd.TryDecompress(frame, output, out var native, out var error))
                throw fail(("length-mismatch", $"it decompresses to more than {output.Length - 1} bytes"));
            return error is null ? native : throw fail(("bad-encoding", $"not a valid zstd frame: {error}"));
        }

        try
        {
            // One decompression context per thread: a new one per segment costs a native allocation and page faults each time.
            var decompressor = _decompressor ??= new Decompressor();
            if (!decompressor.TryUnwrap(frame, output, out var written))
                throw fail(("length-mismatch", $"it decompresses to more than {output.Length - 1} bytes"));
            return written;
        }
        catch (ZstdException ex)
        {
            throw fail(("bad-encoding", $"not a valid zstd frame: {ex.Message}"));
        }
    }

    /// <summary>
    /// Gives the written file its final name only if no segment has it yet: true when this writer published it.
    /// On Linux, link() then unlink() of the temporary name: atomic, so of many writers of one segment exactly one
    /// wins. (.NET's File.Move with overwrite: false is not atomic here: 8 threads racing on one name had 2 or 3 of
    /// them "succeed" in 21 of 300 trials on this VM.) Elsewhere, or where the file system has no hard links,
    /// File.Move.
    /// </summary>
    public static bool Publish(string temp, string final)
    {
        if (OperatingSystem.IsLinux())
        {
            if (Link(temp, final) == 0)
            {
                File.Delete(temp);
                return true;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno == EExist)
                return false;
            if (!NoHardLinks(errno))
                throw new IOException($"link {temp} to {final} failed: {Marshal.GetPInvokeErrorMessage(errno)}");
        }

        try
        {
            File.Move(temp, final, overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(final))
        {
            return false;
        }
    }

    private const int EExist = 17;

    /// <summary>EPERM, EXDEV, EOPNOTSUPP, EMLINK, ENOSYS from link(): this file system has no hard links.</summary>
    private static bool NoHardLinks(int errno) => errno is 1 or 18 or 95 or 31 or 38;

    [LibraryImport("libc", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Link(string existing, string created);

    private static void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux())
            return;
        var fd = Open(directory, 0, 0); // O_RDONLY
        if (fd < 0)
            return;
        Fsync(fd);
        Close(fd);
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "fsync")]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
