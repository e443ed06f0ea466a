using System.Security.Cryptography;
using Ingest.Client;
using Ingest.Contracts;
using ZstdSharp;

namespace Ingest.Service.Tests;

/// <summary>
/// A push to a vault in its own process hands the handler the plaintext each frame was made from, and the frame is
/// checked by comparison instead of by hashing again (docs/architecture.md, "Embedded push"). The comparison must
/// refuse what hashing would have refused, and the plaintext must never stand in for a check across a bus.
/// </summary>
public sealed class LocalSegmentTests
{
    private static byte[] Data(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private static PutSegment Segment(byte[] plaintext, byte[] frame, long sequence = 0) => new()
    {
        SetId = "s1", Sequence = sequence, Sha256 = Convert.ToHexStringLower(SHA256.HashData(plaintext)), Length = plaintext.Length, Encoding = "zstd", Data = frame,
    };

    private static byte[] Frame(byte[] data)
    {
        using var compressor = new Compressor(1);
        return compressor.Wrap(data).ToArray();
    }

    [Theory]
    [InlineData("one-byte-differs", "content-mismatch")]
    [InlineData("other-length", "length-mismatch")]
    public async Task in_process_a_frame_that_does_not_hold_the_plaintext_it_was_made_from_is_refused_and_nothing_is_recorded(string kind, string code)
    {
        await using var vault = await TestVault.StartAsync(direct: true);
        await vault.Client.OpenAsync(new OpenSet { SetId = "s1", Source = "web", Name = "n", Kind = "tree" }, CancellationToken.None);
        var data = Data(200_000, seed: 1);
        // The frame of bytes that changed after they were hashed (one byte, past the first window), or a plaintext of another length.
        var (frame, madeFrom) = kind == "other-length"
            ? (Frame(data), (byte[])[.. data, 7])
            : (Frame([.. data[..150_000], (byte)(data[150_000] ^ 1), .. data[150_001..]]), data);

        var refused = await Assert.ThrowsAsync<IngestRefusedException>(() => vault.Client.PutAsync(Segment(data, frame), madeFrom, CancellationToken.None));

        Assert.Equal(("segment-rejected", code), (refused.Reply.Type, refused.Reply.Code));
        Assert.Empty(await vault.Store.ListAsync().ToArrayAsync());
        // Nothing was recorded for the sequence: the right segment is accepted under it afterwards.
        var accepted = await vault.Client.PutAsync(Segment(data, Frame(data)), data, CancellationToken.None);
        Assert.Equal(IngestReply.SegmentAcceptedType, accepted.Type);
        Assert.Equal(1, vault.Store.FramesCompared);
    }

    [Fact]
    public async Task across_a_bus_the_plaintext_is_not_sent_and_the_vault_checks_the_hash()
    {
        await using var vault = await TestVault.StartAsync(direct: false); // the in-memory bus: the consumers RabbitMQ uses
        await vault.Client.OpenAsync(new OpenSet { SetId = "s1", Source = "web", Name = "n", Kind = "tree" }, CancellationToken.None);
        var data = Data(50_000, seed: 2);
        var other = Data(50_000, seed: 3);

        // A frame of other bytes under data's hash, with data as "made from": only a hash check refuses it.
        var refused = await Assert.ThrowsAsync<IngestRefusedException>(() => vault.Client.PutAsync(Segment(data, Frame(other)), data, CancellationToken.None));

        Assert.False(vault.Client.InProcess);
        Assert.Equal("hash-mismatch", refused.Reply.Code);
        Assert.Equal(0, vault.Store.FramesCompared);
        Assert.Empty(await vault.Store.ListAsync().ToArrayAsync());
    }
}
