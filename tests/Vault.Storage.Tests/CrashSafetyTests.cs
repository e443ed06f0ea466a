using System.Diagnostics;
using Vault.Storage.Log;
using Vault.Storage.Tests.Support;

namespace Vault.Storage.Tests;

/// <summary>
/// A child process appends in a loop and is killed with SIGKILL at random moments; after each kill the log
/// must verify and hold every append the child had been told was durable.
/// </summary>
public abstract class CrashSafety<TBinding> where TBinding : ILogBinding, new()
{
    private const int Kills = 20;

    protected abstract Task<string[]> HelperArgumentsAsync(TBinding binding);

    [Fact]
    public async Task every_acknowledged_append_survives_sigkill_and_the_chain_verifies()
    {
        await using var binding = new TBinding();
        var arguments = await HelperArgumentsAsync(binding);
        var random = new Random(20261123);
        var acknowledged = new List<(long First, long Last, string Stream)>();

        for (var kill = 0; kill < Kills; kill++)
        {
            // A line cut by the kill is not an acknowledgement; every whole line is.
            acknowledged.AddRange((await CrashHelperProcess.RunAndKillAsync(arguments, TimeSpan.FromMilliseconds(random.Next(20, 400))))
                .Select(l => l.Split(' ')).Where(p => p.Length == 4 && p[0] == "ok" && p[3].StartsWith("crash-", StringComparison.Ordinal))
                .Select(p => (long.Parse(p[1]), long.Parse(p[2]), p[3])));

            await using var log = await binding.OpenAsync();
            var report = await LogVerifier.VerifyAsync(log);
            Assert.True(report.Intact, $"after kill {kill + 1}: {report.Violation}");
            var records = (await log.ReadAllAsync().ToListAsync()).ToDictionary(r => r.Position);
            foreach (var (first, last, stream) in acknowledged)
                for (var p = first; p <= last; p++)
                    Assert.True(records.TryGetValue(p, out var r) && r.StreamId == stream, $"after kill {kill + 1}: acknowledged record {p} of {stream} is missing");
        }

        Assert.True(acknowledged.Count > Kills, $"the helper acknowledged only {acknowledged.Count} appends in {Kills} runs");
    }
}

public sealed class SqliteCrashSafety : CrashSafety<SqliteBinding>
{
    protected override Task<string[]> HelperArgumentsAsync(SqliteBinding binding) => Task.FromResult(new[] { "sqlite", binding.Path });
}

public sealed class PostgresCrashSafety : CrashSafety<PostgresBinding>
{
    protected override async Task<string[]> HelperArgumentsAsync(PostgresBinding binding) =>
        ["postgres", TestPostgres.ServiceConnectionString, await binding.SchemaAsync()];
}

/// <summary>The helper process (tests/Vault.CrashHelper), killed at a chosen moment.</summary>
internal static class CrashHelperProcess
{
    /// <summary>Runs the helper and kills it with SIGKILL <paramref name="after"/> its first line of output; returns every whole line it printed.</summary>
    public static async Task<List<string>> RunAndKillAsync(string[] arguments, TimeSpan after)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Vault.CrashHelper.dll"));
        foreach (var a in arguments)
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var lines = new List<string>();
        var ready = await process.StandardOutput.ReadLineAsync();
        if (ready != "ready")
            Assert.Fail($"the helper did not start: {ready} {await stderr}");
        var appending = new TaskCompletionSource();
        var reading = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is { } line)
            {
                lines.Add(line);
                appending.TrySetResult();
            }
        });
        // The random moment is counted from the first acknowledgement, so a slow start on a busy machine (CI runs
        // test assemblies side by side) does not turn a run into a kill before anything was appended.
        await Task.WhenAny(appending.Task, Task.Delay(TimeSpan.FromSeconds(30)));
        await Task.Delay(after);
        process.Kill(entireProcessTree: true); // SIGKILL on Linux
        await process.WaitForExitAsync();
        await reading;
        return lines;
    }
}

/// <summary>
/// Eight writers in a child process store new segments (their files made durable in shared groups) and are killed with
/// SIGKILL at random moments: every segment the child was told was stored must be there whole, and no file with a
/// segment's name may be partial or damaged.
/// </summary>
public sealed class SegmentStoreCrashSafety : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "vault-segcrash-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            foreach (var file in Directory.EnumerateFiles(_directory, "*", SearchOption.AllDirectories))
                File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task every_acknowledged_segment_survives_sigkill_whole_and_no_named_file_is_partial()
    {
        var random = new Random(20261207);
        var acknowledged = new HashSet<string>(StringComparer.Ordinal);
        var store = new Vault.Storage.Segments.FileSegmentStore(_directory);

        for (var kill = 0; kill < 8; kill++)
        {
            var lines = await CrashHelperProcess.RunAndKillAsync(["segments", _directory], TimeSpan.FromMilliseconds(random.Next(20, 400)));
            acknowledged.UnionWith(lines.Select(l => l.Split(' ')).Where(p => p.Length == 2 && p[0] == "stored" && p[1].Length == 64).Select(p => p[1]));

            var named = await store.ListAsync().ToListAsync();
            Assert.Subset(named.Select(h => h.Hex).ToHashSet(StringComparer.Ordinal), acknowledged);
            foreach (var hash in named)
                store.Verify(hash); // throws, naming the segment, on a partial or damaged file
            Assert.DoesNotContain(Directory.EnumerateFiles(_directory, "*", SearchOption.AllDirectories), f => !f.EndsWith(".zst", StringComparison.Ordinal));
        }

        Assert.True(acknowledged.Count > 8, $"the helper stored only {acknowledged.Count} segments in 8 runs");
    }
}
