using Vault.Core.Compression;
using Vault.Storage.Segments;
using ZstdSharp;

namespace Vault.Storage.Tests.Segments;

/// <summary>The system libzstd and the managed port agree on every frame: what it holds, that it does not fit, that it is not one.</summary>
public sealed class NativeZstdTests
{
    private static byte[] Data(int seed, int length)
    {
        var bytes = new byte[length];
        var random = new Random(seed);
        for (var i = 0; i < length; i++)
            bytes[i] = (byte)(i % 7 == 0 ? random.Next(256) : 'a' + i % 13); // compressible, not trivially
        return bytes;
    }

    [Fact]
    public void native_zstd_gives_what_the_managed_port_gives_for_good_short_and_damaged_frames_and_writes_standard_frames()
    {
        Assert.True(NativeZstd.Available, "libzstd.so.1 should load on this machine (Debian ships it with its own tools)");
        var plain = Data(1, 3_000_000);
        var frame = new Compressor(1).Wrap(plain).ToArray();

        var output = new byte[plain.Length + 1];
        Assert.True(NativeZstd.TryDecompress(frame, output, out var written, out var error));
        Assert.Null(error);
        Assert.Equal(plain.Length, written);
        Assert.True(output.AsSpan(0, written).SequenceEqual(plain));

        // Native frames are standard zstd: the managed port reads them back to the same bytes.
        var nativeFrame = new byte[Compressor.GetCompressBound(plain.Length)];
        var nativeLength = NativeZstd.Compress(plain, nativeFrame, 1);
        Assert.True(nativeLength < plain.Length / 2, $"{nativeLength} bytes for {plain.Length}");
        Assert.True(new Decompressor().Unwrap(nativeFrame.AsSpan(0, nativeLength)).SequenceEqual(plain));

        // Too small a buffer: no error, just "does not fit", as the managed port's TryUnwrap says.
        Assert.False(NativeZstd.TryDecompress(frame, new byte[plain.Length - 1], out _, out _));
        Assert.False(new Decompressor().TryUnwrap(frame, new byte[plain.Length - 1], out _));

        // Truncated and damaged frames: an error from both.
        var random = new Random(2);
        for (var i = 0; i < 50; i++)
        {
            var damaged = (byte[])frame.Clone();
            if (i % 2 == 0)
                damaged = damaged[..random.Next(1, damaged.Length)];
            else
                damaged[random.Next(damaged.Length)] ^= (byte)(1 + random.Next(255));
            var nativeOk = NativeZstd.TryDecompress(damaged, output, out var nativeWritten, out var nativeError) && nativeError is null;
            bool managedOk;
            var managedWritten = 0;
            try
            {
                managedOk = new Decompressor().TryUnwrap(damaged, output.AsSpan(), out managedWritten);
            }
            catch (ZstdException)
            {
                managedOk = false;
            }

            Assert.Equal(managedOk, nativeOk);
            if (nativeOk)
                Assert.Equal(managedWritten, nativeWritten);
        }
    }

    private struct Collect(List<byte> into) : IPlaintextSink
    {
        public int Pieces;

        public void Write(ReadOnlySpan<byte> piece)
        {
            Assert.True(piece.Length <= 4096, "a piece never exceeds the window");
            into.AddRange(piece);
            Pieces++;
        }
    }

    [Fact]
    public void streaming_through_a_small_window_gives_the_one_shot_plaintext_and_the_same_verdict_on_damage_bombs_and_concatenated_frames()
    {
        Assert.True(NativeZstd.Available);
        var plain = Data(3, 1_500_000);
        var frame = new Compressor(3).Wrap(plain).ToArray();
        var window = new byte[4096];

        var got = new List<byte>();
        var sink = new Collect(got);
        Assert.Equal(plain.Length, NativeZstd.DecompressTo(frame, window, plain.Length, ref sink, out var error, out var tooLarge));
        Assert.Null(error);
        Assert.False(tooLarge);
        Assert.True(got.ToArray().AsSpan().SequenceEqual(plain));
        Assert.True(sink.Pieces > plain.Length / 4096 - 1);

        // Two frames one after the other are one plaintext, as the one-shot call reads them.
        var second = new Compressor(1).Wrap(Data(4, 10_000)).ToArray();
        got.Clear();
        sink = new Collect(got);
        Assert.Equal(plain.Length + 10_000, NativeZstd.DecompressTo([.. frame, .. second], window, 2_000_000, ref sink, out error, out _));
        Assert.Null(error);

        // A bomb stops at the limit, never later than one window past it.
        var bomb = new Compressor(1).Wrap(new byte[64 << 20]).ToArray();
        got.Clear();
        sink = new Collect(got);
        var produced = NativeZstd.DecompressTo(bomb, window, 1 << 20, ref sink, out error, out tooLarge);
        Assert.True(tooLarge);
        Assert.NotNull(error);
        Assert.InRange(produced, (1 << 20) + 1, (1 << 20) + window.Length);

        // An empty input is not a frame.
        got.Clear();
        sink = new Collect(got);
        NativeZstd.DecompressTo([], window, 100, ref sink, out error, out _);
        Assert.NotNull(error);

        // Truncated and damaged frames: the streamed verdict is the one-shot verdict, and a frame both accept gives the same bytes.
        var random = new Random(5);
        var output = new byte[plain.Length + 1];
        for (var i = 0; i < 60; i++)
        {
            var damaged = (byte[])frame.Clone();
            if (i % 2 == 0)
                damaged = damaged[..random.Next(1, damaged.Length)];
            else
                damaged[random.Next(damaged.Length)] ^= (byte)(1 + random.Next(255));
            var oneShotOk = NativeZstd.TryDecompress(damaged, output, out var oneShotWritten, out var oneShotError) && oneShotError is null;
            got.Clear();
            sink = new Collect(got);
            var streamed = NativeZstd.DecompressTo(damaged, window, plain.Length, ref sink, out error, out _);
            Assert.Equal(oneShotOk, error is null);
            if (oneShotOk)
            {
                Assert.Equal(oneShotWritten, streamed);
                Assert.True(got.ToArray().AsSpan().SequenceEqual(output.AsSpan(0, oneShotWritten)));
            }
        }
    }
}
