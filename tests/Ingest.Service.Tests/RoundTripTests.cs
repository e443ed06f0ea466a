using System.Runtime.Versioning;
using Vault.Core.Sets;
using Vault.Services;

[assembly: UnsupportedOSPlatform("windows")]

namespace Ingest.Service.Tests;

/// <summary>
/// Push and restore through the in-memory transport (the same consumers as RabbitMQ) and, where marked, straight to
/// the handler as `vault push` does (DirectSender).
/// </summary>
public sealed class RoundTripTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task a_pushed_tree_restores_byte_for_byte_with_modes_mtimes_and_symlinks(bool direct)
    {
        await using var vault = await TestVault.StartAsync(direct: direct);
        Trees.Generate(vault.Sub("source"), seed: 1);

        var pushed = await vault.Pusher().PushTreeAsync(vault.Sub("source"), "web-1", "web", "nightly", null, CancellationToken.None);
        var restored = await new SetRestorer(vault.Log, vault.Store).RestoreTreeAsync("web-1", vault.Sub("restored"), null, CancellationToken.None);

        Trees.AssertSame(vault.Sub("source"), vault.Sub("restored"));
        Assert.Equal(pushed.Totals.BytesRead, restored.Bytes);
        var (state, _) = await new BackupSets(vault.Log).LoadAsync("web-1");
        Assert.Equal(SetStatus.Sealed, state.Status);
        Assert.Equal(pushed.ManifestHash, state.Sealed!.ManifestHash);
        // Frames are compressed on several threads at once: the totals still count each sent frame once, exactly
        // (every file in the fresh store is a sent segment's frame, besides the manifest's).
        var manifest = state.Sealed.ManifestHash + ".zst";
        var frames = new DirectoryInfo(Path.Combine(vault.Directory, "segments")).EnumerateFiles("*.zst", SearchOption.AllDirectories).Where(f => f.Name != manifest).ToList();
        Assert.Equal(frames.Count, pushed.Totals.SegmentsSent);
        Assert.Equal(frames.Sum(f => f.Length), pushed.Totals.BytesSent);
        // Straight to the handler, every sent frame was checked against the chunk it was made from; over the bus, by hash.
        Assert.Equal(direct ? frames.Count : 0, vault.Store.FramesCompared);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task a_second_push_after_changing_5_percent_sends_at_most_10_percent_of_the_bytes(bool direct)
    {
        await using var vault = await TestVault.StartAsync(direct: direct);
        var source = vault.Sub("source");
        Trees.Generate(source, seed: 2, bigFileBytes: 40 * 1024 * 1024);
        var first = await vault.Pusher().PushTreeAsync(source, "web-1", "web", "nightly", null, CancellationToken.None);
        var big = Path.Combine(source, "docs", "nested", "deeper", "big.bin");
        using (var stream = new FileStream(big, FileMode.Open, FileAccess.Write))
        {
            stream.Position = 10 * 1024 * 1024;
            stream.Write(new byte[2 * 1024 * 1024]);
        }

        var second = await vault.Pusher().PushTreeAsync(source, "web-2", "web", "nightly", null, CancellationToken.None);
        await new SetRestorer(vault.Log, vault.Store).RestoreTreeAsync("web-1", vault.Sub("r1"), null, CancellationToken.None);
        await new SetRestorer(vault.Log, vault.Store).RestoreTreeAsync("web-2", vault.Sub("r2"), null, CancellationToken.None);

        Assert.True(second.Totals.BytesSent <= first.Totals.BytesSent / 10, $"second push sent {second.Totals.BytesSent} bytes, first {first.Totals.BytesSent}");
        Trees.AssertSame(source, vault.Sub("r2"));
        Assert.Equal(first.Totals.BytesRead, new DirectoryInfo(vault.Sub("r1")).EnumerateFiles("*", SearchOption.AllDirectories).Where(f => f.LinkTarget is null).Sum(f => f.Length));
    }

    [Fact]
    public async Task with_the_previous_manifest_unchanged_files_are_not_read_and_the_set_still_restores_exactly()
    {
        await using var vault = await TestVault.StartAsync();
        var source = vault.Sub("source");
        Trees.Generate(source, seed: 7);
        var first = await vault.Pusher().PushTreeAsync(source, "web-1", "web", "nightly", null, CancellationToken.None);
        File.AppendAllText(Path.Combine(source, "docs", "readme.txt"), "one more line\n");

        var second = await vault.Pusher().PushTreeAsync(source, "web-2", "web", "nightly", null, CancellationToken.None, first.Manifest);
        await new SetRestorer(vault.Log, vault.Store).RestoreTreeAsync("web-2", vault.Sub("r2"), null, CancellationToken.None);

        Assert.Equal(first.Totals.Files - 1, second.Totals.FilesUnchanged);
        Assert.Equal(new FileInfo(Path.Combine(source, "docs", "readme.txt")).Length, second.Totals.BytesRead);
        Trees.AssertSame(source, vault.Sub("r2"));
    }

    /// <summary>A file replaced by another with the same size and mtime (a new inode) is read again, not taken from the previous manifest.</summary>
    [Fact]
    public async Task a_file_replaced_with_the_same_size_and_mtime_but_a_new_inode_is_read_again()
    {
        await using var vault = await TestVault.StartAsync();
        var source = vault.Sub("source");
        Trees.Generate(source, seed: 9);
        var target = Path.Combine(source, "docs", "readme.txt");
        var first = await vault.Pusher().PushTreeAsync(source, "web-1", "web", "nightly", null, CancellationToken.None, null);
        var size = new FileInfo(target).Length;
        var mtime = File.GetLastWriteTimeUtc(target);
        var replacement = Path.Combine(source, "replacement.tmp");
        await File.WriteAllBytesAsync(replacement, Enumerable.Repeat((byte)'x', (int)size).ToArray());
        File.SetLastWriteTimeUtc(replacement, mtime);
        File.Move(replacement, target, overwrite: true); // how editors and package managers replace files: a new inode

        var second = await vault.Pusher().PushTreeAsync(source, "web-2", "web", "nightly", null, CancellationToken.None, first.Manifest);
        await new SetRestorer(vault.Log, vault.Store).RestoreTreeAsync("web-2", vault.Sub("r2"), null, CancellationToken.None);

        Assert.NotNull(first.Manifest.Entries.Single(e => e.Path == "docs/readme.txt").Inode);
        Assert.Equal(first.Totals.Files - 1, second.Totals.FilesUnchanged);
        Assert.Equal(size, second.Totals.BytesRead);
        Assert.Equal(new string('x', (int)size), await File.ReadAllTextAsync(Path.Combine(vault.Sub("r2"), "docs", "readme.txt")));
    }

    [Fact]
    public async Task an_unchanged_file_whose_segments_left_the_vault_is_read_and_sent_again()
    {
        await using var vault = await TestVault.StartAsync();
        var source = vault.Sub("source");
        Trees.Generate(source, seed: 8);
        var first = await vault.Pusher().PushTreeAsync(source, "web-1", "web", "nightly", null, CancellationToken.None);
        var big = first.Manifest.Entries.Single(e => e.Path.EndsWith("big.bin", StringComparison.Ordinal));
        await vault.Store.RemoveAsync(Vault.Core.Segments.SegmentHash.Parse(big.Segments![0]));

        var second = await vault.Pusher().PushTreeAsync(source, "web-2", "web", "nightly", null, CancellationToken.None, first.Manifest);
        await new SetRestorer(vault.Log, vault.Store).RestoreTreeAsync("web-2", vault.Sub("r2"), null, CancellationToken.None);

        Assert.Equal(big.Size, second.Totals.BytesRead);
        Assert.Equal(1, second.Totals.SegmentsSent);
        Trees.AssertSame(source, vault.Sub("r2"));
    }

    /// <param name="damagedSegment">Which of the large file's segments is damaged: its first leaves all the others
    /// untaken when its writer fails, and the next files must not take them as their own.</param>
    [Theory]
    [InlineData("first")]
    [InlineData("middle")]
    public async Task files_restored_at_once_come_out_whole_and_a_damaged_one_in_the_middle_leaves_no_partial_file_anywhere(string damagedSegment)
    {
        await using var vault = await TestVault.StartAsync();
        var source = vault.Sub("source");
        Directory.CreateDirectory(source);
        var random = new Random(11);
        // Small files (one segment each) around a large one of many segments: the writers of the small files after it
        // wait for its segments to be taken in order; every file must come out whole.
        for (var i = 0; i < 120; i++)
        {
            var bytes = new byte[random.Next(1, 40_000)];
            random.NextBytes(bytes);
            File.WriteAllBytes(Path.Combine(source, $"f{i:D3}.bin"), bytes);
            if (i == 60)
            {
                var big = new byte[30 * 1024 * 1024];
                random.NextBytes(big);
                File.WriteAllBytes(Path.Combine(source, "f060-big.bin"), big);
            }
        }

        File.WriteAllBytes(Path.Combine(source, "f200-empty.bin"), []);
        var pushed = await vault.Pusher().PushTreeAsync(source, "web-1", "web", "nightly", null, CancellationToken.None);
        await new SetRestorer(vault.Log, vault.Store).RestoreTreeAsync("web-1", vault.Sub("whole"), null, CancellationToken.None);
        Trees.AssertSame(source, vault.Sub("whole"));

        // One byte flipped in one segment of the large file.
        var bigEntry = pushed.Manifest.Entries.Single(e => e.Path == "f060-big.bin");
        Assert.True(bigEntry.Segments!.Count > 8, $"the large file has {bigEntry.Segments.Count} segments");
        var hash = bigEntry.Segments[damagedSegment == "first" ? 0 : bigEntry.Segments.Count / 2];
        var damaged = Path.Combine(vault.Store.Root, hash[..2], hash + ".zst");
        File.SetUnixFileMode(damaged, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var stored = File.ReadAllBytes(damaged);
        stored[stored.Length / 2] ^= 0x5A;
        File.WriteAllBytes(damaged, stored);

        var target = vault.Sub("restored");
        var error = await Assert.ThrowsAsync<Vault.Core.Errors.StorageCorruptException>(() =>
            new SetRestorer(vault.Log, vault.Store).RestoreTreeAsync("web-1", target, null, CancellationToken.None));

        Assert.Contains("File f060-big.bin of set web-1 cannot be restored", error.Message);
        Assert.False(File.Exists(Path.Combine(target, "f060-big.bin")), "the damaged file was left behind");
        var left = Directory.GetFiles(target);
        Assert.NotEmpty(left); // the files before it were written
        foreach (var file in left)
            Assert.True(File.ReadAllBytes(file).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(source, Path.GetFileName(file)))), $"{Path.GetFileName(file)} was left partial");
    }

    [Fact]
    public async Task a_stream_restores_exactly()
    {
        await using var vault = await TestVault.StartAsync();
        var data = new byte[11 * 1024 * 1024 + 17];
        new Random(3).NextBytes(data);

        await vault.Pusher().PushStreamAsync(new MemoryStream(data), "db-dump-1", "db", "dump", null, CancellationToken.None);
        var output = new MemoryStream();
        await new SetRestorer(vault.Log, vault.Store).RestoreStreamAsync("db-dump-1", output, CancellationToken.None);

        Assert.Equal(data, output.ToArray());
    }

    [Fact]
    public async Task a_set_that_was_never_sealed_is_not_restorable()
    {
        await using var vault = await TestVault.StartAsync();
        await vault.Client.OpenAsync(new Contracts.OpenSet { SetId = "half", Source = "web", Name = "n", Kind = "tree" }, CancellationToken.None);

        var error = await Assert.ThrowsAsync<Vault.Core.Errors.StorageRefusedException>(() =>
            new SetRestorer(vault.Log, vault.Store).RestoreTreeAsync("half", vault.Sub("r"), null, CancellationToken.None));

        Assert.Contains("never sealed", error.Message);
    }
}
