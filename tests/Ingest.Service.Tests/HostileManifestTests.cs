using System.Security.Cryptography;
using Ingest.Client;
using Ingest.Contracts;
using Vault.Core.Log;
using Vault.Core.Sets;
using Vault.Services;

namespace Ingest.Service.Tests;

/// <summary>
/// A producer is another system and may be hostile: its manifest is input. A manifest that could make a restore write
/// outside its target is refused at seal (malformed, naming the entry), and a set sealed with one before this rule
/// existed is refused at restore with nothing written; a benign symlink is made last, with its own mtime.
/// </summary>
public sealed class HostileManifestTests : IAsyncLifetime
{
    private TestVault _vault = null!;
    private byte[] _data = [];
    private string _hash = "";

    public async Task InitializeAsync()
    {
        _vault = await TestVault.StartAsync();
        await _vault.Client.OpenAsync(new OpenSet { SetId = "s1", Source = "web", Name = "n", Kind = "tree" }, CancellationToken.None);
        _data = "the file's bytes"u8.ToArray();
        _hash = Convert.ToHexStringLower(SHA256.HashData(_data));
        await _vault.Client.PutAsync(new PutSegment { SetId = "s1", Sequence = 0, Sha256 = _hash, Length = _data.Length, Encoding = "identity", Data = _data }, CancellationToken.None);
    }

    public async Task DisposeAsync() => await _vault.DisposeAsync();

    private ManifestEntry File(string path) => new(path, "file", 420, 1_700_000_000_000, _data.Length, [_hash]);

    public static TheoryData<string, string> Hostile => new()
    {
        { "dotdot", "'../evil'" },
        { "dotdot-inside", "'a/../../evil'" },
        { "absolute", "'/etc/evil'" },
        { "through-symlink", "'a/cron.d/x' lies beneath 'a', which is a symlink" },
        { "through-file", "'f/x' lies beneath 'f', which is a file" },
        { "twice", "'same' is named twice" },
    };

    private Manifest HostileManifest(string kind) => new(Manifest.CurrentFormat, "s1", "tree", kind switch
    {
        "dotdot" => [File("../evil")],
        "dotdot-inside" => [File("a/../../evil")],
        "absolute" => [File("/etc/evil")],
        "through-symlink" => [new ManifestEntry("a", "symlink", 511, 0, 0, Target: "/etc"), File("a/cron.d/x")],
        "through-file" => [File("f"), File("f/x")],
        _ => [File("same"), File("same")],
    });

    [Theory]
    [MemberData(nameof(Hostile))]
    public async Task a_manifest_that_would_write_outside_the_target_is_refused_at_seal_naming_the_entry(string kind, string named)
    {
        var manifest = HostileManifest(kind).ToBytes();

        var error = await Assert.ThrowsAsync<IngestRefusedException>(() => _vault.Client.SealAsync(new SealSet
        {
            SetId = "s1", SegmentCount = 1, ManifestSha256 = Convert.ToHexStringLower(SHA256.HashData(manifest)), ManifestLength = manifest.Length, ManifestEncoding = "identity", Manifest = manifest,
        }, CancellationToken.None));

        Assert.Equal("malformed", error.Reply.Code);
        Assert.Contains(named, error.Reply.Reason);
        Assert.Equal(SetStatus.Open, (await new BackupSets(_vault.Log).LoadAsync("s1")).State.Status);
    }

    [Fact]
    public async Task a_set_sealed_with_a_symlink_trick_before_the_rule_is_refused_at_restore_and_nothing_is_written_anywhere()
    {
        var outside = _vault.Sub("outside");
        Directory.CreateDirectory(outside);
        var manifest = new Manifest(Manifest.CurrentFormat, "s1", "tree", [new ManifestEntry("a", "symlink", 511, 0, 0, Target: outside), File("a/planted")]);
        await SealBehindTheServiceAsync(manifest);
        var target = _vault.Sub("restore");

        var error = await Assert.ThrowsAsync<Vault.Core.Errors.StorageCorruptException>(() => new SetRestorer(_vault.Log, _vault.Store).RestoreTreeAsync("s1", target, null, CancellationToken.None));

        Assert.Contains("'a/planted' lies beneath 'a'", error.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
        Assert.False(Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any());
    }

    [Fact]
    public async Task a_benign_symlink_is_restored_last_as_a_link_with_its_own_mtime_and_its_target_untouched()
    {
        var elsewhere = _vault.Sub("elsewhere.txt");
        await System.IO.File.WriteAllTextAsync(elsewhere, "not ours");
        var before = System.IO.File.GetLastWriteTimeUtc(elsewhere);
        var manifest = new Manifest(Manifest.CurrentFormat, "s1", "tree",
            [new ManifestEntry("link", "symlink", 511, 1_600_000_000_000, 0, Target: elsewhere), new ManifestEntry("d", "dir", 493, 1_650_000_000_000, 0), File("d/f")]);
        var bytes = manifest.ToBytes();
        await _vault.Client.SealAsync(new SealSet
        {
            SetId = "s1", SegmentCount = 1, ManifestSha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)), ManifestLength = bytes.Length, ManifestEncoding = "identity", Manifest = bytes,
        }, CancellationToken.None);
        var target = _vault.Sub("restore");

        await new SetRestorer(_vault.Log, _vault.Store).RestoreTreeAsync("s1", target, null, CancellationToken.None);

        var link = new FileInfo(Path.Combine(target, "link"));
        Assert.Equal(elsewhere, link.LinkTarget);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1_600_000_000_000).UtcDateTime, link.LastWriteTimeUtc);
        Assert.Equal(before, System.IO.File.GetLastWriteTimeUtc(elsewhere));
        Assert.Equal(_data, await System.IO.File.ReadAllBytesAsync(Path.Combine(target, "d", "f")));
    }

    /// <summary>As a vault sealed before the rule existed would hold it: the manifest stored, the seal recorded.</summary>
    private async Task SealBehindTheServiceAsync(Manifest manifest)
    {
        var bytes = manifest.ToBytes();
        var hash = Vault.Core.Segments.SegmentHash.Parse(Convert.ToHexStringLower(SHA256.HashData(bytes)));
        await _vault.Store.PutAsync(hash, bytes);
        var now = DateTimeOffset.UtcNow;
        await _vault.Log.AppendAsync(SetStreams.Of("s1"), ExpectedVersion.Exactly(0),
            [EventCodec.Encode(new SetSealed("s1", hash.Hex, bytes.Length, 1, 1, _data.Length, now, now), "old-ingest")]);
    }
}
