using System.Security.Cryptography;
using Ingest.Contracts;
using Vault.Core.Errors;
using Vault.Core.Segments;
using Vault.Services;

namespace Ingest.Service.Tests;

/// <summary>
/// The segment store fails under the service (a full disk, a mount gone read-only): after the service's own retries the
/// producer is told at once, `storage-unavailable` (retryable), instead of waiting out its reply timeout; nothing
/// partial stays in the store, nothing is recorded, and the same segment is accepted once the store is writable again.
/// </summary>
public sealed class StorageFailureTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task a_store_that_cannot_be_written_is_answered_storage_unavailable_leaves_nothing_and_the_resend_succeeds(bool direct)
    {
        await using var vault = await TestVault.StartAsync(direct: direct);
        await vault.Client.OpenAsync(new OpenSet { SetId = "s1", Source = "web", Name = "n", Kind = "tree" }, CancellationToken.None);
        var data = new byte[100_000];
        new Random(3).NextBytes(data);
        var hash = Convert.ToHexStringLower(SHA256.HashData(data));
        // The segment's shard directory is taken by a file: every write into it fails, as on a full or broken disk.
        Directory.CreateDirectory(vault.Store.Root);
        var blocker = Path.Combine(vault.Store.Root, hash[..2]);
        await File.WriteAllTextAsync(blocker, "not a directory");
        var head = await vault.Log.ReadHeadAsync();
        var segment = new PutSegment { SetId = "s1", Sequence = 0, Sha256 = hash, Length = data.Length, Encoding = "identity", Data = data };

        var started = TimeProvider.System.GetTimestamp();
        var failure = await Assert.ThrowsAsync<StorageUnavailableException>(() => vault.Client.PutAsync(segment, CancellationToken.None));
        var waited = TimeProvider.System.GetElapsedTime(started);

        Assert.Contains("storage is unavailable", failure.Message);
        Assert.Contains("retryable", failure.Message);
        Assert.Contains(vault.Store.Root, failure.Message);
        Assert.True(waited < TimeSpan.FromSeconds(60), $"answered after {waited.TotalSeconds:F0} s; the reply timeout is 120 s");
        Assert.Equal(head, await vault.Log.ReadHeadAsync());
        Assert.False(await vault.Store.ContainsAsync(SegmentHash.Parse(hash)));
        Assert.Empty(Directory.EnumerateFiles(vault.Store.Root, ".tmp-*", SearchOption.AllDirectories));

        File.Delete(blocker);
        var accepted = await vault.Client.PutAsync(segment, CancellationToken.None);
        Assert.Equal(IngestReply.SegmentAcceptedType, accepted.Type);
        Assert.Equal(hash, (await new BackupSets(vault.Log).SegmentAsync("s1", 0))!.Hash);
    }

    /// <summary>A real full disk: the segment store on a 2 MiB tmpfs (this needs root, as the CI machine has), then grown.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task a_push_into_a_store_whose_disk_fills_fails_clearly_leaves_no_partial_segment_and_succeeds_once_space_is_back(bool direct)
    {
        await using var vault = await TestVault.StartAsync(direct: direct);
        Directory.CreateDirectory(vault.Store.Root);
        await Mount("-t", "tmpfs", "-o", "size=2m", "tmpfs", vault.Store.Root);
        try
        {
            Trees.Generate(vault.Sub("source"), seed: 11, bigFileBytes: 6 * 1024 * 1024);

            var failure = await Assert.ThrowsAsync<StorageUnavailableException>(() =>
                vault.Pusher().PushTreeAsync(vault.Sub("source"), "full-1", "web", "nightly", null, CancellationToken.None));

            Assert.Contains("No space left on device", failure.Message);
            Assert.Contains(direct ? "running the same push again completes it" : "send the same message again later", failure.Message);
            Assert.Empty(Directory.EnumerateFiles(vault.Store.Root, ".tmp-*", SearchOption.AllDirectories));
            // Whatever the full disk let through is a whole segment under its own name, and nothing else is there
            // (a segment is written unnamed and named once durable; one that did not fit left no name at all).
            var left = Directory.EnumerateFiles(vault.Store.Root, "*", SearchOption.AllDirectories).ToList();
            Assert.NotEmpty(left);
            foreach (var file in left)
            {
                Assert.True(SegmentHash.TryParse(Path.GetFileNameWithoutExtension(file), out var stored) && file.EndsWith(".zst", StringComparison.Ordinal), $"{file} is not a segment");
                vault.Store.Verify(stored); // throws SegmentCorruptException for a partial or damaged frame
            }

            Assert.NotEqual(Vault.Core.Sets.SetStatus.Sealed, (await new BackupSets(vault.Log).LoadAsync("full-1")).State.Status);
            Assert.True((await Vault.Storage.Log.LogVerifier.VerifyAsync(vault.Log)).Intact); // what was stored before the disk filled stays recorded and intact

            await Mount("-o", "remount,size=256m", vault.Store.Root);
            await vault.Pusher().PushTreeAsync(vault.Sub("source"), "full-1", "web", "nightly", null, CancellationToken.None);
            await new SetRestorer(vault.Log, vault.Store).RestoreTreeAsync("full-1", vault.Sub("restored"), null, CancellationToken.None);
            Trees.AssertSame(vault.Sub("source"), vault.Sub("restored"));
            Assert.True((await Vault.Storage.Log.LogVerifier.VerifyAsync(vault.Log)).Intact);
        }
        finally
        {
            await Mount("-u", vault.Store.Root); // umount via the helper below
        }
    }

    private static async Task Mount(params string[] args)
    {
        var unmount = args[0] == "-u";
        var start = new System.Diagnostics.ProcessStartInfo(unmount ? "umount" : "mount") { RedirectStandardError = true };
        foreach (var a in unmount ? args[1..] : args)
            start.ArgumentList.Add(a);
        using var process = System.Diagnostics.Process.Start(start)!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{start.FileName} {string.Join(' ', start.ArgumentList)} failed ({error.Trim()}): this test needs root, as ops/test.sh on the CI machine has");
    }
}
