using System.Globalization;
using System.Text;
using Xunit.Abstractions;

namespace Vault.Ops.Tests;

/// <summary>
/// The byte-flip campaign (issue "Hardening"): random bytes flipped, ten files at a time, across the stored segments
/// and a tape image. After each round `vault check --read-data --images` must name every flipped segment and the
/// flipped image; `vault restore` of the set must fail naming what is damaged (the store holds one copy), and
/// `vault media restore` from the damaged image and a clean copy must fall back and restore byte-exact. No round may
/// end with a restore that succeeded on damaged data. The suite flips 40 bytes; ops/campaign-byteflip.sh flips 1,000
/// (VAULT_CAMPAIGN_FLIPS, VAULT_CAMPAIGN_REPORT).
/// </summary>
public sealed class ByteFlipCampaignTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDir _temp = new();

    public void Dispose() => _temp.Dispose();

    private string Vault => _temp.Sub("vault");

    private Task<CliRun> Run(params string[] args) => CliRun.RunAsync([.. args, "--vault", Vault]);

    [Fact]
    public async Task every_flipped_byte_is_found_and_no_restore_returns_damaged_data()
    {
        var flips = int.TryParse(Environment.GetEnvironmentVariable("VAULT_CAMPAIGN_FLIPS"), out var n) ? n : 40;
        var keys = await TestApprovers.CreateAsync(_temp.Sub("keys"));
        Assert.Equal(0, (await keys.InitAsync(Vault)).ExitCode);
        var random = new Random(20261202);
        for (var i = 0; i < 12; i++)
        {
            var bytes = new byte[random.Next(200_000, 2_500_000)];
            random.NextBytes(bytes);
            Directory.CreateDirectory(_temp.Sub("src/d"));
            await File.WriteAllBytesAsync(_temp.Sub($"src/d/f{i:00}.bin"), bytes);
        }

        Assert.Equal(0, (await Run("push", _temp.Sub("src"), "--set", "s1", "--source", "web", "--no-cache")).ExitCode);
        Assert.Equal(0, (await Run("rotation", "configure")).ExitCode);
        Assert.True((await Run("rotation", "run")).ExitCode is 0 or 12);
        var image = Directory.GetFiles(Path.Combine(Vault, "sites"), "*.vtape", SearchOption.AllDirectories).MaxBy(f => new FileInfo(f).Length)!;
        var imageDir = Path.GetDirectoryName(image)!;
        Directory.CreateDirectory(_temp.Sub("copy"));
        File.Copy(image, _temp.Sub("copy/" + Path.GetFileName(image)));
        var segments = Directory.GetFiles(Path.Combine(Vault, "segments"), "*.zst", SearchOption.AllDirectories);
        var targets = segments.Append(image).ToArray();

        int made = 0, found = 0, restoresRefused = 0, fellBack = 0, silent = 0, rounds = 0;
        var misses = new List<string>();
        while (made < flips)
        {
            rounds++;
            var round = targets.OrderBy(_ => random.Next()).Take(Math.Min(10, flips - made)).ToArray();
            var originals = new List<(string File, long Offset, byte Value)>();
            foreach (var file in round)
            {
                var offset = random.NextInt64(new FileInfo(file).Length);
                originals.Add((file, offset, Flip(file, offset, (byte)random.Next(1, 256))));
            }

            made += round.Length;
            var check = await Run("check", "--read-data", "--images", imageDir);
            Assert.Equal(10, check.ExitCode);
            foreach (var (file, offset, _) in originals)
            {
                var named = file == image
                    ? check.Output.Contains($"DAMAGED  image {image}", StringComparison.Ordinal)
                    : check.Output.Contains($"DAMAGED  {Path.GetFileNameWithoutExtension(file)}:", StringComparison.Ordinal);
                if (named)
                    found++;
                else
                    misses.Add($"{Path.GetFileName(file)} at offset {offset}");
            }

            if (rounds % 5 == 1)
            {
                // Restores on damaged data: refused naming what is damaged, or (from images) fallen back to the clean copy.
                var restore = await Run("restore", "s1", "--to", _temp.Sub($"r{rounds}"));
                if (restore.ExitCode == 0)
                {
                    silent += Same(_temp.Sub("src"), _temp.Sub($"r{rounds}")) ? 0 : 1;
                    Assert.True(round.All(f => f == image), "a restore succeeded although stored segments were damaged");
                }
                else
                {
                    restore.AssertNoStackTrace();
                    Assert.True(restore.Error.Contains("File d/f", StringComparison.Ordinal) || restore.Error.Contains("The manifest of set s1", StringComparison.Ordinal), restore.Error);
                    restoresRefused++;
                }

                var media = await Run("media", "restore", "s1", "--images", image, _temp.Sub("copy/" + Path.GetFileName(image)), "--to", _temp.Sub($"m{rounds}"));
                Assert.True(media.ExitCode == 0, media.Error);
                if (Same(_temp.Sub("src"), _temp.Sub($"m{rounds}")))
                    fellBack++;
                else
                    silent++;
            }

            foreach (var (file, offset, value) in originals.AsEnumerable().Reverse())
                Put(file, offset, value);
        }

        Assert.Equal(0, (await Run("check", "--read-data", "--images", imageDir)).ExitCode); // every flip undone
        var report = string.Create(CultureInfo.InvariantCulture,
            $"byte-flip campaign: {made:N0} flips in {rounds} rounds over {segments.Length} stored segments and 1 tape image ({new FileInfo(image).Length / 1e6:N1} MB): {found:N0} found by vault check --read-data ({100.0 * found / made:F1}%), restores on damaged data: {restoresRefused} refused naming the file, {fellBack} fell back to the clean image copy and restored byte-exact, {silent} silent corruptions");
        output.WriteLine(report);
        if (Environment.GetEnvironmentVariable("VAULT_CAMPAIGN_REPORT") is { Length: > 0 } path)
            await File.WriteAllTextAsync(path, report + Environment.NewLine + (misses.Count > 0 ? "missed: " + string.Join("; ", misses) + Environment.NewLine : ""));
        Assert.True(misses.Count == 0, "not found: " + string.Join("; ", misses.Take(20)) + "\n" + report);
        Assert.Equal(0, silent);
    }

    private static byte Flip(string file, long offset, byte mask)
    {
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite);
        stream.Position = offset;
        var b = (byte)stream.ReadByte();
        stream.Position = offset;
        stream.WriteByte((byte)(b ^ mask));
        return b;
    }

    private static void Put(string file, long offset, byte value)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite);
        stream.Position = offset;
        stream.WriteByte(value);
    }

    private static bool Same(string expected, string actual) =>
        Directory.GetFiles(expected, "*", SearchOption.AllDirectories).All(f =>
        {
            var other = Path.Combine(actual, Path.GetRelativePath(expected, f));
            return File.Exists(other) && File.ReadAllBytes(f).AsSpan().SequenceEqual(File.ReadAllBytes(other));
        });
}
