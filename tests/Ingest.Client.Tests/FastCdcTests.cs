using System.Security.Cryptography;
using Ingest.Client.Chunking;

namespace Ingest.Client.Tests;

public sealed class FastCdcTests
{
    private static byte[] Random(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private static async Task<List<byte[]>> ChunksAsync(byte[] data, FastCdc? cdc = null, int readSize = 1 << 20)
    {
        var chunks = new List<byte[]>();
        await foreach (var chunk in (cdc ?? new FastCdc()).ChunkAsync(new TrickleStream(data, readSize)))
            chunks.Add(chunk.ToArray());
        return chunks;
    }

    [Fact]
    public async Task chunks_rebuild_the_input_and_respect_min_and_max()
    {
        var data = Random(40 * 1024 * 1024, 1);

        var chunks = await ChunksAsync(data);

        Assert.Equal(data, chunks.SelectMany(c => c).ToArray());
        Assert.All(chunks.SkipLast(1), c => Assert.InRange(c.Length, 512 * 1024, 8 * 1024 * 1024));
        var average = data.Length / chunks.Count;
        Assert.InRange(average, 1024 * 1024, 4 * 1024 * 1024);
    }

    [Fact]
    public async Task the_cuts_do_not_depend_on_how_the_stream_is_read()
    {
        var data = Random(12 * 1024 * 1024, 2);

        var whole = await ChunksAsync(data, readSize: 16 * 1024 * 1024);
        var trickled = await ChunksAsync(data, readSize: 4093);

        Assert.Equal(whole.Select(c => c.Length), trickled.Select(c => c.Length));
    }

    [Fact]
    public async Task an_insertion_near_the_start_leaves_the_later_chunks_unchanged()
    {
        var original = Random(40 * 1024 * 1024, 3);
        var edited = original.Take(1000).Concat(Random(333, 4)).Concat(original.Skip(1000)).ToArray();

        var before = (await ChunksAsync(original)).Select(c => Convert.ToHexString(SHA256.HashData(c))).ToHashSet();
        var after = (await ChunksAsync(edited)).Select(c => Convert.ToHexString(SHA256.HashData(c))).ToList();

        var shared = after.Count(before.Contains);
        Assert.True(shared >= after.Count - 2, $"only {shared} of {after.Count} chunks survived a 333-byte insertion");
    }

    [Fact]
    public async Task long_runs_of_one_byte_are_cut_at_max_and_small_inputs_are_one_chunk()
    {
        var zeros = new byte[20 * 1024 * 1024];

        var chunks = await ChunksAsync(zeros);
        var small = await ChunksAsync(Random(1000, 5));
        var empty = await ChunksAsync([]);

        Assert.Equal([8 * 1024 * 1024, 8 * 1024 * 1024, 4 * 1024 * 1024], chunks.Select(c => c.Length));
        Assert.Equal([1000], small.Select(c => c.Length));
        Assert.Empty(empty);
    }

    /// <summary>A stream that hands out at most a fixed number of bytes per read, like a pipe.</summary>
    private sealed class TrickleStream(byte[] data, int readSize) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, readSize));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, readSize)], cancellationToken);
    }
}
