using System.Text;

namespace Ingest.Service.Tests;

/// <summary>Generated source trees, and a byte-for-byte, mode and mtime comparison of two trees.</summary>
public static class Trees
{
    public static void Generate(string root, int seed, int bigFileBytes = 20 * 1024 * 1024)
    {
        var random = new Random(seed);
        Directory.CreateDirectory(Path.Combine(root, "docs", "nested", "deeper"));
        Directory.CreateDirectory(Path.Combine(root, "empty-dir"));
        File.WriteAllBytes(Path.Combine(root, "zero.bin"), []);
        File.WriteAllText(Path.Combine(root, "docs", "readme.txt"), string.Concat(Enumerable.Range(0, 2000).Select(i => $"line {i} of the readme\n")));
        for (var i = 0; i < 12; i++)
        {
            var bytes = new byte[random.Next(1, 400_000)];
            random.NextBytes(bytes);
            File.WriteAllBytes(Path.Combine(root, "docs", "nested", $"file-{i:00}.bin"), bytes);
        }

        var big = new byte[bigFileBytes];
        random.NextBytes(big);
        File.WriteAllBytes(Path.Combine(root, "docs", "nested", "deeper", "big.bin"), big);
        File.WriteAllText(Path.Combine(root, "text-ü.txt"), "ünïcödé\n", Encoding.UTF8);
        File.CreateSymbolicLink(Path.Combine(root, "link-to-readme"), "docs/readme.txt");
        File.SetUnixFileMode(Path.Combine(root, "zero.bin"), UnixFileMode.UserRead | UnixFileMode.UserExecute);
        File.SetLastWriteTimeUtc(Path.Combine(root, "docs", "readme.txt"), new DateTime(2020, 2, 29, 12, 34, 56, 789, DateTimeKind.Utc));
    }

    public static void AssertSame(string expected, string actual)
    {
        var left = Entries(expected);
        var right = Entries(actual);
        Assert.Equal(left.Keys.Order(StringComparer.Ordinal), right.Keys.Order(StringComparer.Ordinal));
        foreach (var (path, info) in left)
        {
            var other = right[path];
            Assert.Equal(info.LinkTarget, other.LinkTarget);
            if (info.LinkTarget is not null)
                continue;
            Assert.True(info.UnixFileMode == other.UnixFileMode, $"{path}: mode {info.UnixFileMode} != {other.UnixFileMode}");
            Assert.True(Math.Abs((info.LastWriteTimeUtc - other.LastWriteTimeUtc).TotalMilliseconds) < 1, $"{path}: mtime {info.LastWriteTimeUtc:o} != {other.LastWriteTimeUtc:o}");
            if (info is FileInfo file)
                Assert.True(File.ReadAllBytes(file.FullName).AsSpan().SequenceEqual(File.ReadAllBytes(other.FullName)), $"{path}: contents differ");
        }
    }

    private static Dictionary<string, FileSystemInfo> Entries(string root) =>
        new DirectoryInfo(root).EnumerateFileSystemInfos("*", SearchOption.AllDirectories)
            .ToDictionary(i => Path.GetRelativePath(root, i.FullName), i => i, StringComparer.Ordinal);
}
