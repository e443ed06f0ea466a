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
            acknowledged.AddRange(await RunAndKillAsync(arguments, TimeSpan.FromMilliseconds(random.Next(20, 400))));

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

    private static async Task<List<(long, long, string)>> RunAndKillAsync(string[] arguments, TimeSpan after)
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

        // A line cut by the kill is not an acknowledgement; every whole line is.
        return lines.Select(l => l.Split(' ')).Where(p => p.Length == 4 && p[0] == "ok" && p[3].StartsWith("crash-", StringComparison.Ordinal))
            .Select(p => (long.Parse(p[1]), long.Parse(p[2]), p[3])).ToList();
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
