using Vault.Core.Segments;
using Vault.Storage.Segments;
using ZstdSharp;

[assembly: System.Runtime.Versioning.UnsupportedOSPlatform("windows")]

namespace Vault.Storage.Tests.Segments;

/// <summary>The behaviour every segment store must have; bound to each store below in one line.</summary>
public abstract class SegmentStoreConformance : IDisposable
{
    protected string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("vault-segments-").FullName;

    protected abstract ISegmentStore Store { get; }

    protected abstract string FileOf(SegmentHash hash);

    public void Dispose()
    {
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "*", SearchOption.AllDirectories))
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    protected static byte[] Data(int length, int seed = 1)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    [Fact]
    public async Task a_segment_is_stored_once_read_back_verified_and_left_read_only()
    {
        var data = Data(100_000);
        var hash = SegmentHash.Of(data);

        var first = await Store.PutAsync(hash, data);
        var second = await Store.PutAsync(hash, data);

        Assert.True(first.Stored);
        Assert.False(second.Stored);
        Assert.Equal(data, await Store.ReadAsync(hash));
        Assert.True(await Store.ContainsAsync(hash));
        Assert.Equal(UnixFileMode.None, File.GetUnixFileMode(FileOf(hash)) & (UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite));
        Assert.Equal([hash], await Store.ListAsync().ToArrayAsync());
    }

    [Fact]
    public async Task text_is_compressed_at_rest()
    {
        var text = System.Text.Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("the vault keeps every backup it was given. ", 5000)));

        var put = await Store.PutAsync(SegmentHash.Of(text), text);

        Assert.True(put.StoredBytes < text.Length / 10, $"{put.StoredBytes} bytes stored for {text.Length}");
    }

    [Fact]
    public async Task a_wrong_hash_is_rejected_and_nothing_is_stored()
    {
        var data = Data(1000);
        var claimed = SegmentHash.Of(Data(1000, seed: 2));

        var rejected = await Assert.ThrowsAsync<SegmentRejectedException>(() => Store.PutAsync(claimed, data));

        Assert.Equal("hash-mismatch", rejected.Code);
        Assert.False(await Store.ContainsAsync(claimed));
        Assert.Empty(await Store.ListAsync().ToArrayAsync());
    }

    [Fact]
    public async Task an_oversized_segment_is_rejected()
    {
        var data = new byte[8 * 1024 * 1024 + 1];

        var rejected = await Assert.ThrowsAsync<SegmentRejectedException>(() => Store.PutAsync(SegmentHash.Of(data), data));

        Assert.Equal("too-large", rejected.Code);
    }

    [Fact]
    public async Task a_producer_compressed_frame_is_checked_and_kept_as_sent()
    {
        var data = Data(50_000);
        using var compressor = new Compressor(1);
        var frame = compressor.Wrap(data).ToArray();

        var put = await Store.PutCompressedAsync(SegmentHash.Of(data), data.Length, frame);

        Assert.True(put.Stored);
        Assert.Equal(frame, await File.ReadAllBytesAsync(FileOf(SegmentHash.Of(data))));
        Assert.Equal(data, await Store.ReadAsync(SegmentHash.Of(data)));
    }

    [Theory]
    [InlineData("lie-short", "length-mismatch")]
    [InlineData("bomb", "length-mismatch")]
    [InlineData("garbage", "bad-encoding")]
    public async Task a_bad_compressed_frame_is_rejected_with_its_reason(string kind, string code)
    {
        var data = kind == "bomb" ? new byte[64 * 1024 * 1024] : Data(10_000);
        using var compressor = new Compressor(1);
        var frame = kind == "garbage" ? Data(500) : compressor.Wrap(data).ToArray();
        var declared = kind == "bomb" ? 1024 : data.Length - 1;

        var rejected = await Assert.ThrowsAsync<SegmentRejectedException>(() => Store.PutCompressedAsync(SegmentHash.Of(data), declared, frame));

        Assert.Equal(code, rejected.Code);
        Assert.Empty(await Store.ListAsync().ToArrayAsync());
    }

    [Fact]
    public async Task a_flipped_byte_at_rest_is_detected_on_read()
    {
        var data = Data(20_000);
        var hash = SegmentHash.Of(data);
        await Store.PutAsync(hash, data);
        var path = FileOf(hash);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var stored = await File.ReadAllBytesAsync(path);
        stored[stored.Length / 2] ^= 0x40;
        await File.WriteAllBytesAsync(path, stored);

        await Assert.ThrowsAsync<SegmentCorruptException>(() => Store.ReadAsync(hash));
    }

    [Fact]
    public async Task concurrent_puts_of_one_segment_store_it_exactly_once()
    {
        // Twenty races of eight writers: File.Move(overwrite: false) let two or three win in 7% of such races here.
        for (var round = 0; round < 20; round++)
        {
            var data = Data(300_000 + round);
            var hash = SegmentHash.Of(data);
            using var start = new ManualResetEventSlim();
            var puts = Enumerable.Range(0, 8).Select(_ => Task.Run(() => { start.Wait(); return Store.PutAsync(hash, data); })).ToArray();
            start.Set();
            var results = await Task.WhenAll(puts);

            Assert.Equal(1, results.Count(p => p.Stored));
            Assert.Equal(data, await Store.ReadAsync(hash));
        }

        Assert.Empty(System.IO.Directory.EnumerateFiles(Directory, ".tmp-*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task a_removed_segment_is_gone()
    {
        var data = Data(1000);
        var hash = SegmentHash.Of(data);
        await Store.PutAsync(hash, data);

        Assert.True(await Store.RemoveAsync(hash));
        Assert.False(await Store.RemoveAsync(hash));
        Assert.False(await Store.ContainsAsync(hash));
        await Assert.ThrowsAsync<SegmentNotFoundException>(() => Store.ReadAsync(hash));
    }
}

/// <summary>On Linux each segment is written as an unnamed file (O_TMPFILE) and named once durable.</summary>
public class FileSegmentStoreConformance : SegmentStoreConformance
{
    private readonly FileSegmentStore _store;

    public FileSegmentStoreConformance()
        : this(new SegmentStoreOptions())
    {
    }

    private readonly SegmentStoreOptions _options;

    protected FileSegmentStoreConformance(SegmentStoreOptions options)
    {
        _options = options;
        _store = new FileSegmentStore(Directory, options);
    }

    [Fact]
    public async Task segments_are_written_the_way_the_options_say_and_no_temporary_name_is_left()
    {
        var data = Data(200_000, seed: 30);
        Assert.True((await _store.PutAsync(SegmentHash.Of(data), data)).Stored);

        // On Linux x64/arm64 the unnamed path must really be taken: a failure in it would silently fall back to the named one.
        Assert.Equal(_options.UnnamedTemporaryFiles && OperatingSystem.IsLinux(), _store.WritesUnnamed);
        Assert.Equal([Path.GetFileName(FileOf(SegmentHash.Of(data)))], System.IO.Directory.EnumerateFiles(Directory, "*", SearchOption.AllDirectories).Select(Path.GetFileName));
    }

    [Fact]
    public async Task concurrent_new_segments_are_each_stored_whole_and_on_linux_made_durable_in_shared_groups()
    {
        var segments = Enumerable.Range(0, 48).Select(i => Data(20_000 + i, seed: 100 + i)).ToArray();

        var puts = await Task.WhenAll(segments.Select(d => Task.Run(() => _store.PutAsync(SegmentHash.Of(d), d))));

        Assert.All(puts, put => Assert.True(put.Stored));
        foreach (var data in segments)
            Assert.Equal(data, await _store.ReadAsync(SegmentHash.Of(data)));
        var (groups, files) = _store.DurableGroups;
        if (_store.WritesUnnamed)
        {
            Assert.Equal(segments.Length, files);
            Assert.True(groups < files, $"{files} new segments were synced in {groups} groups: none was shared");
        }
        else
        {
            Assert.Equal((0, 0), (groups, files)); // the named path syncs each file itself
        }
    }

    [Fact]
    public async Task a_frame_made_in_this_process_is_checked_against_the_plaintext_it_was_made_from_and_kept_as_made()
    {
        var data = Data(300_000, seed: 40); // more than one 128 KiB window of decompressed bytes
        using var compressor = new Compressor(1);
        var frame = compressor.Wrap(data).ToArray();

        var put = await _store.PutFrameMadeFromAsync(SegmentHash.Of(data), data, frame);

        Assert.True(put.Stored);
        Assert.Equal(1, _store.FramesCompared);
        Assert.Equal(frame, await File.ReadAllBytesAsync(FileOf(SegmentHash.Of(data))));
        Assert.Equal(data, await _store.ReadAsync(SegmentHash.Of(data)));
    }

    [Theory]
    [InlineData("last-byte-differs", "content-mismatch")]
    [InlineData("first-byte-differs", "content-mismatch")]
    [InlineData("shorter", "content-mismatch")]
    [InlineData("longer", "content-mismatch")]
    [InlineData("garbage", "bad-encoding")]
    public async Task a_frame_that_does_not_hold_the_plaintext_it_was_made_from_is_refused_and_nothing_is_stored(string kind, string code)
    {
        var data = Data(300_000, seed: 41);
        var other = kind switch
        {
            "last-byte-differs" => [.. data[..^1], (byte)(data[^1] ^ 1)],
            "first-byte-differs" => [(byte)(data[0] ^ 1), .. data[1..]],
            "shorter" => data[..^1],
            "longer" => [.. data, 0],
            _ => data,
        };
        using var compressor = new Compressor(1);
        var frame = kind == "garbage" ? Data(500) : compressor.Wrap(other).ToArray();

        var rejected = await Assert.ThrowsAsync<SegmentRejectedException>(() => _store.PutFrameMadeFromAsync(SegmentHash.Of(data), data, frame));

        Assert.Equal(code, rejected.Code);
        Assert.Empty(await _store.ListAsync().ToArrayAsync());
        Assert.Equal(0, _store.FramesCompared);
    }

    protected override ISegmentStore Store => _store;

    protected override string FileOf(SegmentHash hash) => Path.Combine(Directory, hash.Hex[..2], hash.Hex + ".zst");

    [Fact]
    public async Task a_scrub_verify_gives_the_plaintext_length_and_names_a_flipped_byte_an_empty_file_and_a_missing_segment()
    {
        var random = new Random(3);
        var data = new byte[3_500_000];
        for (var i = 0; i < data.Length; i++)
            data[i] = (byte)(i % 5 == 0 ? random.Next(256) : 'k');
        var hash = SegmentHash.Of(data);
        await _store.PutAsync(hash, data);
        Assert.Equal(data.Length, _store.Verify(hash));

        var path = FileOf(hash);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var stored = await File.ReadAllBytesAsync(path);
        for (var flip = 0; flip < 40; flip++)
        {
            var damaged = (byte[])stored.Clone();
            damaged[random.Next(damaged.Length)] ^= (byte)(1 + random.Next(255));
            await File.WriteAllBytesAsync(path, damaged);
            var error = Assert.Throws<SegmentCorruptException>(() => _store.Verify(hash));
            Assert.Contains(hash.Hex, error.Message, StringComparison.Ordinal);
        }

        await File.WriteAllBytesAsync(path, stored[..(stored.Length / 3)]);
        Assert.Throws<SegmentCorruptException>(() => _store.Verify(hash));
        await File.WriteAllBytesAsync(path, []);
        Assert.Throws<SegmentCorruptException>(() => _store.Verify(hash));
        File.Delete(path);
        Assert.Throws<SegmentNotFoundException>(() => _store.Verify(hash));
    }

    [Fact]
    public async Task a_prefix_directory_removed_after_the_store_made_it_is_made_again_on_the_next_write()
    {
        var first = Data(1000, seed: 10);
        var firstHash = SegmentHash.Of(first);
        var (second, secondHash) = Enumerable.Range(11, 100_000).Select(seed => Data(1000, seed)).Select(d => (d, SegmentHash.Of(d)))
            .First(p => p.Item2.Hex[..2] == firstHash.Hex[..2] && p.Item2 != firstHash);
        await _store.PutAsync(firstHash, first);
        await _store.RemoveAsync(firstHash);
        System.IO.Directory.Delete(Path.Combine(Directory, firstHash.Hex[..2]));

        var put = await _store.PutAsync(secondHash, second);

        Assert.True(put.Stored);
        Assert.Equal(second, await _store.ReadAsync(secondHash));
        Assert.Equal(UnixFileMode.None, File.GetUnixFileMode(FileOf(secondHash)) & (UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite));
    }
}

/// <summary>The portable path (a temporary name, then link), which other systems and file systems without unnamed files take.</summary>
public sealed class NamedTemporaryFileSegmentStoreConformance() : FileSegmentStoreConformance(new SegmentStoreOptions { UnnamedTemporaryFiles = false });
