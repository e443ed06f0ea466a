using System.Runtime.InteropServices;

namespace Vault.Core.Compression;

/// <summary>
/// zstd through the system's libzstd (libzstd.so.1, present wherever Debian's own tools are) where it loads: faster
/// than the managed port on this machine for both directions, which is what a push, a scrub and a restore spend much
/// of their time on. The frames are standard zstd either way (a segment is identified by its plaintext's SHA-256, not
/// by its frame). Where the library is absent, or with VAULT_ZSTD=managed, everything goes through ZstdSharp, with
/// the same results and failures.
/// </summary>
public static partial class NativeZstd
{
    private const string Library = "libzstd.so.1";
    private const nuint DestinationTooSmall = 70; // ZSTD_error_dstSize_tooSmall

    [ThreadStatic]
    private static IntPtr _context;

    [ThreadStatic]
    private static IntPtr _compressor;

    public static bool Available { get; } = Probe();

    private static bool Probe()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("VAULT_ZSTD") == "managed")
            return false;
        if (!NativeLibrary.TryLoad(Library, out var handle))
            return false;
        NativeLibrary.Free(handle);
        try
        {
            return ZSTD_versionNumber() >= 10400; // 1.4: every call used here
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Decompresses one frame into <paramref name="output"/>: the bytes written, or false when they do not fit; an error names a frame that is not valid.</summary>
    public static bool TryDecompress(ReadOnlySpan<byte> frame, Span<byte> output, out int written, out string? error)
    {
        written = 0;
        error = null;
        if (_context == IntPtr.Zero)
            _context = ZSTD_createDCtx();
        var result = ZSTD_decompressDCtx(_context, ref MemoryMarshal.GetReference(output), (nuint)output.Length, in MemoryMarshal.GetReference(frame), (nuint)frame.Length);
        if (ZSTD_isError(result) != 0)
        {
            if (ZSTD_getErrorCode(result) == DestinationTooSmall)
                return false;
            error = Marshal.PtrToStringUTF8(ZSTD_getErrorName(result)) ?? "unknown error";
            return true;
        }

        written = checked((int)result);
        return true;
    }

    /// <summary>
    /// Decompresses <paramref name="frame"/> (one or more concatenated frames) through <paramref name="window"/> a piece at a
    /// time, handing each piece to <paramref name="sink"/> while it is still in cache, without ever holding the whole
    /// plaintext: a scrub or an ingest check only needs the plaintext's length and hash. Stops with an error once more
    /// than <paramref name="limit"/> bytes come out (a bomb, or a lie; <paramref name="tooLarge"/> is then set). Returns
    /// the bytes produced; <paramref name="error"/> names a frame that is not valid. (Measured against decompressing
    /// each block straight into a segment-sized buffer and hashing it there: this is 5-7% faster on a scrub, the writes
    /// staying in a small buffer that stays in cache; docs/benchmarks.md.)
    /// </summary>
    public static long DecompressTo<TSink>(ReadOnlySpan<byte> frame, Span<byte> window, long limit, ref TSink sink, out string? error, out bool tooLarge)
        where TSink : struct, IPlaintextSink, allows ref struct
    {
        error = null;
        tooLarge = false;
        if (_context == IntPtr.Zero)
            _context = ZSTD_createDCtx();
        ZSTD_DCtx_reset(_context, 1); // session only: a frame an earlier call left unfinished starts nothing here
        long total = 0;
        unsafe
        {
            fixed (byte* source = frame)
            fixed (byte* destination = window)
            {
                var input = new Buffer { Pointer = source, Size = (nuint)frame.Length };
                nuint pending = 1;
                while (input.Position < input.Size || pending != 0)
                {
                    var output = new Buffer { Pointer = destination, Size = (nuint)window.Length };
                    var before = input.Position;
                    pending = ZSTD_decompressStream(_context, ref output, ref input);
                    if (ZSTD_isError(pending) != 0)
                    {
                        error = Marshal.PtrToStringUTF8(ZSTD_getErrorName(pending)) ?? "unknown error";
                        return total;
                    }

                    total += (long)output.Position;
                    if (total > limit)
                    {
                        tooLarge = true;
                        error = $"it decompresses to more than {limit} bytes";
                        return total;
                    }

                    sink.Write(window[..(int)output.Position]);
                    if (output.Position == 0 && input.Position == before)
                    {
                        error = "the frame ends before its data does";
                        return total;
                    }
                }
            }
        }

        return total;
    }

    /// <summary>Compresses <paramref name="data"/> into one frame at <paramref name="level"/>; <paramref name="output"/> holds at least ZSTD_compressBound bytes.</summary>
    public static int Compress(ReadOnlySpan<byte> data, Span<byte> output, int level)
    {
        if (_compressor == IntPtr.Zero)
            _compressor = ZSTD_createCCtx();
        var result = ZSTD_compressCCtx(_compressor, ref MemoryMarshal.GetReference(output), (nuint)output.Length, in MemoryMarshal.GetReference(data), (nuint)data.Length, level);
        if (ZSTD_isError(result) != 0)
            throw new InvalidOperationException($"zstd compression failed: {Marshal.PtrToStringUTF8(ZSTD_getErrorName(result))}");
        return checked((int)result);
    }

    [LibraryImport(Library)]
    private static partial IntPtr ZSTD_createCCtx();

    [LibraryImport(Library)]
    private static partial nuint ZSTD_compressCCtx(IntPtr context, ref byte destination, nuint capacity, in byte source, nuint size, int level);

    [LibraryImport(Library)]
    private static partial uint ZSTD_versionNumber();

    [LibraryImport(Library)]
    private static partial IntPtr ZSTD_createDCtx();

    [LibraryImport(Library)]
    private static partial nuint ZSTD_decompressDCtx(IntPtr context, ref byte destination, nuint capacity, in byte source, nuint size);

    [LibraryImport(Library)]
    private static partial nuint ZSTD_DCtx_reset(IntPtr context, int reset);

    [LibraryImport(Library)]
    private static partial nuint ZSTD_decompressStream(IntPtr context, ref Buffer output, ref Buffer input);

    /// <summary>ZSTD_inBuffer and ZSTD_outBuffer share this layout: pointer, size, position.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct Buffer
    {
        public byte* Pointer;
        public nuint Size;
        public nuint Position;
    }

    [LibraryImport(Library)]
    private static partial uint ZSTD_isError(nuint code);

    [LibraryImport(Library)]
    private static partial nuint ZSTD_getErrorCode(nuint code);

    [LibraryImport(Library)]
    private static partial IntPtr ZSTD_getErrorName(nuint code);
}

/// <summary>Where streamed plaintext goes, a piece at a time (a hash, a counter): a struct so the loop calls it directly.</summary>
public interface IPlaintextSink
{
    void Write(ReadOnlySpan<byte> piece);
}
