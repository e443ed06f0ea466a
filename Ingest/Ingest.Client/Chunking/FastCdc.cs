using System.Buffers;
using System.Runtime.CompilerServices;

namespace Ingest.Client.Chunking;

/// <summary>Sizes for content-defined chunking: no chunk below Min (but the last), none above Max, about Average on random data.</summary>
public sealed record ChunkSizes(int Min, int Average, int Max)
{
    public static ChunkSizes Default { get; } = new(512 * 1024, 2 * 1024 * 1024, 8 * 1024 * 1024);
}

/// <summary>
/// FastCDC (Xia et al., USENIX ATC 2016) with normalized chunking: a gear rolling hash over each byte after Min;
/// before Average a cut needs more zero bits (harder), after it fewer (easier), and Max forces a cut. Because a cut
/// depends only on the last bytes seen, inserting or changing data moves only the cuts near the change, so last
/// night's unchanged data yields the same chunks and deduplicates.
/// </summary>
public sealed class FastCdc
{
    private static readonly ulong[] Gear = BuildGear();
    private readonly ChunkSizes _sizes;
    private readonly ulong _maskHard;
    private readonly ulong _maskEasy;

    public FastCdc(ChunkSizes? sizes = null)
    {
        _sizes = sizes ?? ChunkSizes.Default;
        if (_sizes.Min <= 0 || _sizes.Min > _sizes.Average || _sizes.Average > _sizes.Max)
            throw new ArgumentException("Chunk sizes need 0 < Min <= Average <= Max.", nameof(sizes));
        var bits = (int)Math.Round(Math.Log2(_sizes.Average));
        _maskHard = TopBits(bits + 2);
        _maskEasy = TopBits(bits - 2);
    }

    public ChunkSizes Sizes => _sizes;

    /// <summary>The length of the first chunk of <paramref name="data"/> (all of it when shorter than Min).</summary>
    public int Cut(ReadOnlySpan<byte> data)
    {
        var n = data.Length;
        if (n <= _sizes.Min)
            return n;
        var normal = Math.Min(_sizes.Average, n);
        var limit = Math.Min(_sizes.Max, n);
        ulong fingerprint = 0;
        var i = _sizes.Min;
        for (; i < normal; i++)
        {
            fingerprint = (fingerprint << 1) + Gear[data[i]];
            if ((fingerprint & _maskHard) == 0)
                return i + 1;
        }

        for (; i < limit; i++)
        {
            fingerprint = (fingerprint << 1) + Gear[data[i]];
            if ((fingerprint & _maskEasy) == 0)
                return i + 1;
        }

        return limit;
    }

    /// <summary>Chunks a stream, holding at most two maximum-sized chunks in memory; each chunk is a copy of its own.</summary>
    public async IAsyncEnumerable<ReadOnlyMemory<byte>> ChunkAsync(Stream stream, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var chunk in ChunkPooledAsync(stream, cancellationToken))
        {
            using (chunk)
                yield return chunk.Memory.ToArray();
        }
    }

    /// <summary>
    /// Chunks a stream into buffers rented from the shared pool: the caller disposes each chunk when done with it.
    /// Fresh multi-megabyte arrays are expensive (each can cost a full collection and page faults), pooled ones are not.
    /// </summary>
    public async IAsyncEnumerable<PooledChunk> ChunkPooledAsync(Stream stream, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var buffer = Vault.Core.Buffers.SegmentBuffers.Pool.Rent(2 * _sizes.Max);
        try
        {
            await foreach (var chunk in ChunkIntoAsync(stream, buffer, 2 * _sizes.Max, cancellationToken))
                yield return chunk;
        }
        finally
        {
            Vault.Core.Buffers.SegmentBuffers.Pool.Return(buffer);
        }
    }

    private async IAsyncEnumerable<PooledChunk> ChunkIntoAsync(Stream stream, byte[] buffer, int capacity, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var start = 0;
        var end = 0;
        var eof = false;
        while (true)
        {
            if (!eof && end - start < _sizes.Max)
            {
                if (start > 0)
                {
                    Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                    end -= start;
                    start = 0;
                }

                while (end < capacity)
                {
                    var read = await stream.ReadAsync(buffer.AsMemory(end), cancellationToken);
                    if (read == 0)
                    {
                        eof = true;
                        break;
                    }

                    end += read;
                }
            }

            if (start == end)
                yield break;
            // Before EOF at least Max bytes are buffered here, so the cut is the one the whole stream would give.
            var length = Cut(buffer.AsSpan(start, end - start));
            var copy = Vault.Core.Buffers.SegmentBuffers.Pool.Rent(length);
            buffer.AsSpan(start, length).CopyTo(copy);
            yield return new PooledChunk(copy, length);
            start += length;
        }
    }

    private static ulong TopBits(int count) => count <= 0 ? 0 : ulong.MaxValue << (64 - Math.Min(count, 64));

    /// <summary>256 pseudo-random 64-bit values from SplitMix64 with a fixed seed: the same on every machine and in every version.</summary>
    private static ulong[] BuildGear()
    {
        var gear = new ulong[256];
        var state = 0x5641554C54434443UL; // "VAULTCDC"
        for (var i = 0; i < gear.Length; i++)
        {
            state += 0x9E3779B97F4A7C15UL;
            var z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            gear[i] = z ^ (z >> 31);
        }

        return gear;
    }
}

/// <summary>A chunk in a rented buffer; disposing it returns the buffer to the pool (once).</summary>
public sealed class PooledChunk(byte[] buffer, int length) : IDisposable
{
    private byte[]? _buffer = buffer;

    public int Length { get; } = length;

    public ReadOnlyMemory<byte> Memory => (_buffer ?? throw new ObjectDisposedException(nameof(PooledChunk))).AsMemory(0, Length);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } rented)
            Vault.Core.Buffers.SegmentBuffers.Pool.Return(rented);
    }
}
