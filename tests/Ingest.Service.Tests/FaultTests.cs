using System.Diagnostics;
using Ingest.Client;
using Vault.Core.Sets;
using Vault.Ops;
using Vault.Storage.Log;
using Vault.Storage.Sqlite;

namespace Ingest.Service.Tests;

/// <summary>The ingest service ('vault serve', a real child process) is killed with SIGKILL in the middle of a push through RabbitMQ and restarted.</summary>
public sealed class FaultTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vault-fault-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var file in Directory.EnumerateFiles(_dir, "*", SearchOption.AllDirectories))
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Directory.Delete(_dir, recursive: true);
    }

    private string Sub(string name) => Path.Combine(_dir, name);

    private static async Task<int> Cli(params string[] args) => (await CliOutput(args)).Code;

    private static async Task<(int Code, string Output)> CliOutput(params string[] args)
    {
        var output = new StringWriter();
        var context = new CliContext(output, TextWriter.Null, TimeProvider.System, name => name == "VAULT_KEY_PASSWORD" ? "fault-test" : null);
        return (await VaultCli.RunAsync(args, context), output.ToString().Trim());
    }

    private Process Serve(string amqp, List<string>? errors = null)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "vault.dll"), "serve", "--vault", Sub("vault"), "--amqp", amqp })
            start.ArgumentList.Add(a);
        var process = Process.Start(start)!;
        var ready = new TaskCompletionSource();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line && errors is not null)
            {
                lock (errors)
                    errors.Add(line);
            }

            if (e.Data?.Contains("consuming", StringComparison.Ordinal) == true)
                ready.TrySetResult();
        };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        Assert.True(ready.Task.Wait(TimeSpan.FromSeconds(30)), "vault serve did not start");
        return process;
    }

    /// <summary>A new vault with two approvers and a virtual host of its own on the test broker; returns the broker URI.</summary>
    private async Task<string> InitAsync()
    {
        var amqp = await TestBroker.NewVirtualHostAsync();
        var approvers = new List<string>();
        foreach (var who in new[] { "a", "b" })
            approvers.AddRange(["--approver", (await CliOutput("approver", "keygen", "--name", who, "--out", Sub(who + ".key"), "--kdf-iterations", "10000")).Output]);
        Assert.Equal(0, await Cli(["init", "--vault", Sub("vault"), .. approvers]));
        return amqp;
    }

    [Fact]
    public async Task a_push_completes_when_the_service_is_killed_and_restarted_with_no_lost_or_duplicated_event()
    {
        var amqp = await InitAsync();
        Trees.Generate(Sub("source"), seed: 6, bigFileBytes: 60 * 1024 * 1024);

        var serve = Serve(amqp);
        await using var producer = await IngestHost.StartAsync(new IngestHostOptions { Amqp = amqp, Producer = "fault", ReplyTimeout = TimeSpan.FromMinutes(2) });
        var sent = 0L;
        var progress = new Progress<PushProgress>(p => Interlocked.Exchange(ref sent, p.SegmentsSent));
        var push = Task.Run(() => new Pusher(producer.Client!, TimeProvider.System, new PushOptions { Window = 4 }).PushTreeAsync(Sub("source"), "night-1", "web", "nightly", progress, CancellationToken.None));
        while (Interlocked.Read(ref sent) < 8 && !push.IsCompleted)
            await Task.Delay(20);

        serve.Kill(entireProcessTree: true); // SIGKILL mid-push
        await serve.WaitForExitAsync();
        await Task.Delay(500);
        var restarted = Serve(amqp);
        try
        {
            var result = await push.WaitAsync(TimeSpan.FromMinutes(3));
            Assert.Equal("night-1", result.SetId);
        }
        finally
        {
            restarted.Kill(entireProcessTree: true);
            await restarted.WaitForExitAsync();
        }

        Assert.Equal(0, await Cli("log", "verify", "--vault", Sub("vault")));
        Assert.Equal(0, await Cli("restore", "night-1", "--to", Sub("restored"), "--vault", Sub("vault")));
        Trees.AssertSame(Sub("source"), Sub("restored"));
        await using var log = new GroupCommitEventLog(await SqliteLogBackend.OpenAsync(Path.Combine(Sub("vault"), "log.db"), create: false));
        var segmentEvents = new List<string>();
        await foreach (var r in log.ReadAllAsync())
        {
            if (r.EventType == SegmentStored.EventType)
                segmentEvents.Add(r.StreamId);
        }

        Assert.Equal(segmentEvents.Count, segmentEvents.Distinct().Count());
        Assert.True(segmentEvents.Count >= 30, $"{segmentEvents.Count} segments recorded");
    }

    [Fact]
    public async Task sigterm_drains_the_service_which_exits_0_and_the_push_completes_once_it_is_back()
    {
        var amqp = await InitAsync();
        Trees.Generate(Sub("source"), seed: 7, bigFileBytes: 40 * 1024 * 1024);
        var errors = new List<string>();

        var serve = Serve(amqp, errors);
        await using var producer = await IngestHost.StartAsync(new IngestHostOptions { Amqp = amqp, Producer = "term", ReplyTimeout = TimeSpan.FromMinutes(2) });
        var sent = 0L;
        var progress = new Progress<PushProgress>(p => Interlocked.Exchange(ref sent, p.SegmentsSent));
        var push = Task.Run(() => new Pusher(producer.Client!, TimeProvider.System, new PushOptions { Window = 4 }).PushTreeAsync(Sub("source"), "night-1", "web", "nightly", progress, CancellationToken.None));
        while (Interlocked.Read(ref sent) < 4 && !push.IsCompleted)
            await Task.Delay(20);

        using (var kill = Process.Start("kill", ["-TERM", serve.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            await kill.WaitForExitAsync();
        var exited = serve.WaitForExitAsync();
        Assert.True(await Task.WhenAny(exited, Task.Delay(TimeSpan.FromSeconds(60))) == exited, "vault serve did not stop on SIGTERM");
        var restarted = Serve(amqp);
        try
        {
            Assert.Equal("night-1", (await push.WaitAsync(TimeSpan.FromMinutes(3))).SetId);
        }
        finally
        {
            restarted.Kill(entireProcessTree: true);
            await restarted.WaitForExitAsync();
        }

        lock (errors)
            Assert.True(serve.ExitCode == 0, $"exit {serve.ExitCode}: {string.Join(Environment.NewLine, errors)}");
        lock (errors)
            Assert.Contains(errors, line => line.Contains("stopping", StringComparison.Ordinal));
        Assert.Equal(0, await Cli("log", "verify", "--vault", Sub("vault")));
        Assert.Equal(0, await Cli("restore", "night-1", "--to", Sub("restored"), "--vault", Sub("vault")));
        Trees.AssertSame(Sub("source"), Sub("restored"));
    }
}
