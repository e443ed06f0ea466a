using System.Security.Cryptography;
using Ingest.Client;
using Ingest.Contracts;
using Vault.Core.Sets;
using Vault.Services;
using ZstdSharp;

namespace Ingest.Service.Tests;

/// <summary>Every rejection path, through the consumers on the in-memory bus: the producer gets a code and a sentence, and nothing stored is touched.</summary>
public sealed class RejectionTests : IAsyncLifetime
{
    private TestVault _vault = null!;

    public async Task InitializeAsync()
    {
        _vault = await TestVault.StartAsync();
        await _vault.Client.OpenAsync(new OpenSet { SetId = "s1", Source = "web", Name = "n", Kind = "tree" }, CancellationToken.None);
    }

    public async Task DisposeAsync() => await _vault.DisposeAsync();

    private static byte[] Data(int length, int seed = 1)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private static PutSegment Segment(byte[] data, long sequence = 0, string set = "s1") => new()
    {
        SetId = set, Sequence = sequence, Sha256 = Convert.ToHexStringLower(SHA256.HashData(data)), Length = data.Length, Encoding = "identity", Data = data,
    };

    private async Task<IngestReply> RejectedAsync(PutSegment message) =>
        (await Assert.ThrowsAsync<IngestRefusedException>(() => _vault.Client.PutAsync(message, CancellationToken.None))).Reply;

    [Fact]
    public async Task a_wrong_hash_is_rejected()
    {
        var reply = await RejectedAsync(Segment(Data(1000)) with { Sha256 = new string('a', 64) });

        Assert.Equal(("segment-rejected", "hash-mismatch"), (reply.Type, reply.Code));
        Assert.Contains("SHA-256", reply.Reason);
        Assert.Empty(await _vault.Store.ListAsync().ToArrayAsync());
    }

    [Fact]
    public async Task a_wrong_length_is_rejected_in_either_encoding()
    {
        var data = Data(1000);
        using var compressor = new Compressor(1);

        var plain = await RejectedAsync(Segment(data) with { Length = 999 });
        var zstd = await RejectedAsync(Segment(data) with { Length = 1001, Encoding = "zstd", Data = compressor.Wrap(data).ToArray() });

        Assert.Equal("length-mismatch", plain.Code);
        Assert.Equal("length-mismatch", zstd.Code);
    }

    [Fact]
    public async Task an_oversized_segment_is_rejected()
    {
        var reply = await RejectedAsync(Segment(Data(10)) with { Length = IngestQueues.MaxSegmentBytes + 1 });

        Assert.Equal("too-large", reply.Code);
    }

    [Fact]
    public async Task a_segment_for_an_unknown_or_sealed_set_is_rejected()
    {
        var unknown = await RejectedAsync(Segment(Data(10), set: "nope"));
        var manifest = new Manifest(Manifest.CurrentFormat, "s1", "tree", []).ToBytes();
        await _vault.Client.SealAsync(new SealSet
        {
            SetId = "s1", SegmentCount = 0, ManifestSha256 = Convert.ToHexStringLower(SHA256.HashData(manifest)), ManifestLength = manifest.Length, ManifestEncoding = "identity", Manifest = manifest,
        }, CancellationToken.None);
        var sealedSet = await RejectedAsync(Segment(Data(10)));

        Assert.Equal("unknown-set", unknown.Code);
        Assert.Equal("set-sealed", sealedSet.Code);
    }

    [Fact]
    public async Task a_redelivered_segment_is_accepted_again_without_a_second_event_but_other_content_under_its_sequence_is_refused()
    {
        var first = await _vault.Client.PutAsync(Segment(Data(500)), CancellationToken.None);
        var again = await _vault.Client.PutAsync(Segment(Data(500)), CancellationToken.None);
        var conflict = await RejectedAsync(Segment(Data(500, seed: 9)));

        Assert.Equal(first.Sha256, again.Sha256);
        Assert.Equal("sequence-conflict", conflict.Code);
        var events = await _vault.Log.ReadStreamAsync(SetStreams.OfSegment("s1", 0)).ToArrayAsync();
        Assert.Single(events);
        Assert.Equal(Data(500), await _vault.Store.ReadAsync(Vault.Core.Segments.SegmentHash.Parse(first.Sha256!)));
    }

    [Theory]
    [InlineData("setId")]
    [InlineData("sha256")]
    [InlineData("data")]
    [InlineData("encoding")]
    public async Task a_message_missing_a_field_is_rejected_as_malformed(string missing)
    {
        var message = Segment(Data(10));
        message = missing switch
        {
            "setId" => message with { SetId = "" },
            "sha256" => message with { Sha256 = "" },
            "data" => message with { Data = null },
            _ => message with { Encoding = "" },
        };

        var reply = await RejectedAsync(message);

        Assert.Equal("malformed", reply.Code);
        Assert.Contains(missing, reply.Reason);
    }

    [Fact]
    public async Task sealing_with_a_manifest_naming_a_segment_the_vault_lacks_is_refused_and_the_set_stays_open()
    {
        var manifest = new Manifest(Manifest.CurrentFormat, "s1", "tree", [new ManifestEntry("a", "file", 420, 0, 5, [new string('b', 64)])]).ToBytes();

        var error = await Assert.ThrowsAsync<IngestRefusedException>(() => _vault.Client.SealAsync(new SealSet
        {
            SetId = "s1", SegmentCount = 0, ManifestSha256 = Convert.ToHexStringLower(SHA256.HashData(manifest)), ManifestLength = manifest.Length, ManifestEncoding = "identity", Manifest = manifest,
        }, CancellationToken.None));

        Assert.Equal("missing-segments", error.Reply.Code);
        Assert.Equal(SetStatus.Open, (await new BackupSets(_vault.Log).LoadAsync("s1")).State.Status);
    }
}
