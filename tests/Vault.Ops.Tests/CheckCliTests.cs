using System.Text.Json;

namespace Vault.Ops.Tests;

/// <summary>vault check --read-data: a flipped byte in a stored segment or in a tape image is found and named.</summary>
public sealed class CheckCliTests : IDisposable
{
    private readonly TempDir _temp = new();

    public void Dispose() => _temp.Dispose();

    private string Vault => _temp.Sub("vault");

    private Task<CliRun> Run(params string[] args) => CliRun.RunAsync([.. args, "--vault", Vault]);

    private async Task PushAsync()
    {
        var keys = await TestApprovers.CreateAsync(_temp.Sub("keys"));
        Assert.Equal(0, (await keys.InitAsync(Vault)).ExitCode);
        Directory.CreateDirectory(_temp.Sub("src/docs"));
        var bytes = new byte[3_000_000];
        new Random(4).NextBytes(bytes);
        await File.WriteAllBytesAsync(_temp.Sub("src/docs/big.bin"), bytes);
        await File.WriteAllTextAsync(_temp.Sub("src/small.txt"), "small");
        Assert.Equal(0, (await Run("push", _temp.Sub("src"), "--set", "s1", "--source", "web")).ExitCode);
    }

    private static void Flip(string file, long offset)
    {
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite);
        stream.Position = offset;
        var b = stream.ReadByte();
        stream.Position = offset;
        stream.WriteByte((byte)(b ^ 0x40));
    }

    [Fact]
    public async Task an_intact_vault_reads_back_whole_and_exits_0()
    {
        await PushAsync();

        var check = await Run("check", "--read-data", "--json");

        Assert.True(check.ExitCode == 0, check.Output + check.Error);
        var report = JsonDocument.Parse(check.Output).RootElement;
        Assert.True(report.GetProperty("intact").GetBoolean());
        Assert.Equal(report.GetProperty("segments").GetProperty("stored").GetInt64(), report.GetProperty("segments").GetProperty("checked").GetInt64());
        Assert.True(report.GetProperty("segments").GetProperty("plaintextBytes").GetInt64() >= 3_000_005);
    }

    /// <summary>
    /// A segment whose file matches the SHA-256 the log recorded when it was written is not decompressed; a file
    /// rewritten since (here: the same content compressed again at another level, as a copy from elsewhere would be)
    /// is decompressed and passes on its content's hash; one changed at a single byte, with its record unchanged, is
    /// named. --deep decompresses every segment.
    /// </summary>
    [Fact]
    public async Task a_segment_matching_its_recorded_stored_hash_is_not_decompressed_and_any_other_is()
    {
        await PushAsync();
        static JsonElement Segments(CliRun run) => JsonDocument.Parse(run.Output).RootElement.GetProperty("segments");
        var first = await Run("check", "--read-data", "--json");
        var deep = await Run("check", "--read-data", "--deep", "--json");
        var files = Directory.GetFiles(Path.Combine(Vault, "segments"), "*.zst", SearchOption.AllDirectories);
        var biggest = files.MaxBy(f => new FileInfo(f).Length)!;
        using var decompressor = new ZstdSharp.Decompressor();
        using var compressor = new ZstdSharp.Compressor(9);
        var content = decompressor.Unwrap(File.ReadAllBytes(biggest)).ToArray();
        var recompressed = compressor.Wrap(content).ToArray();
        Assert.False(recompressed.AsSpan().SequenceEqual(File.ReadAllBytes(biggest)));
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(biggest, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await File.WriteAllBytesAsync(biggest, recompressed);
        var rewritten = await Run("check", "--read-data", "--json");
        Flip(biggest, recompressed.Length / 2);
        var flipped = await Run("check", "--read-data", "--json");

        Assert.Equal(0, first.ExitCode);
        Assert.Equal(files.Length, Segments(first).GetProperty("checked").GetInt64());
        // Only the manifest (stored at the seal, whose record carries no stored hash) is decompressed.
        Assert.Equal(1, Segments(first).GetProperty("decompressed").GetInt64());
        Assert.Equal(Segments(first).GetProperty("plaintextBytes").GetInt64(), Segments(deep).GetProperty("plaintextBytes").GetInt64());
        Assert.Equal(files.Length, Segments(deep).GetProperty("decompressed").GetInt64());
        Assert.True(rewritten.ExitCode == 0, rewritten.Output);
        Assert.Equal(2, Segments(rewritten).GetProperty("decompressed").GetInt64());
        Assert.Equal(10, flipped.ExitCode);
        Assert.Contains("big.bin", flipped.Output);
    }

    [Fact]
    public async Task a_flipped_byte_in_a_stored_segment_is_named_by_set_and_file_with_exit_10()
    {
        await PushAsync();
        var biggest = Directory.GetFiles(Path.Combine(Vault, "segments"), "*.zst", SearchOption.AllDirectories).MaxBy(f => new FileInfo(f).Length)!;
        Flip(biggest, new FileInfo(biggest).Length / 2);

        var check = await Run("check", "--read-data");

        Assert.Equal(10, check.ExitCode);
        Assert.Contains($"DAMAGED  {Path.GetFileNameWithoutExtension(biggest)}: set s1 file docs/big.bin", check.Output);
        check.AssertNoStackTrace();
    }

    [Fact]
    public async Task a_flipped_byte_in_a_tape_image_is_found_with_images()
    {
        await PushAsync();
        Assert.Equal(0, (await Run("rotation", "configure")).ExitCode);
        var run = await Run("rotation", "run");
        Assert.True(run.ExitCode is 0 or 12, run.Error);
        var image = Directory.GetFiles(Path.Combine(Vault, "sites"), "*.vtape", SearchOption.AllDirectories).MaxBy(f => new FileInfo(f).Length)!;
        Flip(image, new FileInfo(image).Length / 2);

        var check = await Run("check", "--read-data", "--images", Path.GetDirectoryName(image)!);

        Assert.Equal(10, check.ExitCode);
        Assert.Contains($"DAMAGED  image {image} at offset", check.Output);
    }

    [Fact]
    public async Task check_without_read_data_says_what_it_needs()
    {
        await PushAsync();

        var check = await Run("check");

        Assert.Equal(2, check.ExitCode);
        Assert.Contains("--read-data", check.Error);
    }
}
