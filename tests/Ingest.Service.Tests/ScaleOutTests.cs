using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Ingest.Client;
using Npgsql;
using Vault.Ops;

namespace Ingest.Service.Tests;

/// <summary>
/// Several 'vault serve' processes (real child processes) on one vault whose log is in the real PostgreSQL, sharing its
/// segment store and competing on one RabbitMQ virtual host; /health and /metrics served by each.
/// </summary>
public sealed class ScaleOutTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vault-scale-").FullName;
    private readonly string _schema = "scale_" + Guid.NewGuid().ToString("N")[..12];
    private readonly List<Process> _processes = [];
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    private static string Pg => Environment.GetEnvironmentVariable("VAULT_TEST_PG") is { Length: > 0 } v
        ? v
        : throw new InvalidOperationException("VAULT_TEST_PG is not set: run the tests with ops/test.sh (README).");

    public void Dispose()
    {
        foreach (var p in _processes.Where(p => !p.HasExited))
            p.Kill(entireProcessTree: true);
        foreach (var file in Directory.EnumerateFiles(_dir, "*", SearchOption.AllDirectories))
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Directory.Delete(_dir, recursive: true);
    }

    private string Sub(string name) => Path.Combine(_dir, name);

    private async Task<(int Code, string Output)> Cli(params string[] args)
    {
        var output = new StringWriter();
        var context = new CliContext(output, TextWriter.Null, TimeProvider.System, name => name switch
        {
            "VAULT_KEY_PASSWORD" => "scale-test",
            "VAULT_POSTGRES" => Pg,
            _ => null,
        });
        return (await VaultCli.RunAsync(args, context), output.ToString().Trim());
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed record Instance(string Name, Process Process, string Url, List<string> Lines)
    {
        public bool Says(string text)
        {
            lock (Lines)
                return Lines.Any(l => l.Contains(text, StringComparison.Ordinal));
        }
    }

    private Instance Serve(string name, string amqp, string? postgres = null)
    {
        var url = $"http://127.0.0.1:{FreePort()}";
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "vault.dll"), "serve", "--vault", Sub("vault"), "--amqp", amqp,
                     "--execute-due-every", "1s", "--listen", url, "--instance", name })
            start.ArgumentList.Add(a);
        start.Environment["VAULT_POSTGRES"] = postgres ?? Pg;
        var process = Process.Start(start)!;
        _processes.Add(process);
        var instance = new Instance(name, process, url, []);
        var ready = new TaskCompletionSource();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not { } line)
                return;
            lock (instance.Lines)
                instance.Lines.Add(line);
            if (line.Contains("serving /health", StringComparison.Ordinal))
                ready.TrySetResult(); // after the consumers started: the endpoints answer from here on
        };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        Assert.True(ready.Task.Wait(TimeSpan.FromSeconds(40)), $"vault serve {name} did not start: {string.Join('\n', instance.Lines)}");
        return instance;
    }

    private async Task InitAsync(params string[] extra)
    {
        var approvers = new List<string>();
        foreach (var who in new[] { "a", "b" })
            approvers.AddRange(["--approver", (await Cli("approver", "keygen", "--name", who, "--out", Sub(who + ".key"), "--kdf-iterations", "10000")).Output]);
        Assert.Equal(0, (await Cli(["init", "--vault", Sub("vault"), "--pg-schema", _schema, .. approvers, .. extra])).Code);
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> HealthAsync(Instance instance)
    {
        using var response = await Http.GetAsync(instance.Url + "/health");
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    /// <summary>The sum of a metric's series, of those carrying <paramref name="label"/> (as name="value") when given.</summary>
    private static async Task<double> MetricAsync(Instance instance, string name, string? label = null)
    {
        var text = await Http.GetStringAsync(instance.Url + "/metrics");
        return text.Split('\n').Where(l => l.StartsWith(name, StringComparison.Ordinal) && (label is null || l.Contains(label, StringComparison.Ordinal)))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    private async Task<List<(string Type, string Stream)>> RecordsAsync()
    {
        await using var connection = new NpgsqlConnection(Pg);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT event_type, stream_id FROM {_schema}.events ORDER BY position", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var records = new List<(string, string)>();
        while (await reader.ReadAsync())
            records.Add((reader.GetString(0), reader.GetString(1)));
        return records;
    }

    [Fact]
    public async Task two_instances_share_a_vault_and_when_the_leader_is_killed_mid_push_the_push_completes_and_the_other_executes_the_due_request_once()
    {
        await InitAsync("--cooling-off", "6s", "--min-retention", "1s");
        var amqp = await TestBroker.NewVirtualHostAsync();
        var first = Serve("first", amqp);
        var second = Serve("second", amqp);
        var deadline = Stopwatch.StartNew();
        while (!first.Says("now leads") && !second.Says("now leads") && deadline.Elapsed < TimeSpan.FromSeconds(10))
            await Task.Delay(100);
        var (leader, standby) = first.Says("now leads") ? (first, second) : (second, first);
        Assert.True(leader.Says("now leads"), "neither instance took the lead");
        Assert.False(standby.Says("now leads"), "both instances lead the scheduled work");

        await using var producer = await IngestHost.StartAsync(new IngestHostOptions { Amqp = amqp, Producer = "scale", ReplyTimeout = TimeSpan.FromMinutes(2) });
        Trees.Generate(Sub("old"), seed: 11, bigFileBytes: 3 * 1024 * 1024);
        await new Pusher(producer.Client!, TimeProvider.System).PushTreeAsync(Sub("old"), "old", "web", "nightly", null, CancellationToken.None);
        await Task.Delay(1100); // the minimum retention (1 s) of the set to delete
        Assert.Equal(0, (await Cli("deletion", "request", "--set", "old", "--reason", "scale-out test", "--id", "del-1", "--key", Sub("a.key"), "--vault", Sub("vault"))).Code);
        Assert.Equal(0, (await Cli("deletion", "approve", "del-1", "--key", Sub("b.key"), "--vault", Sub("vault"))).Code);
        var quorum = Stopwatch.StartNew(); // due 6 s from now: after the leader is killed below
        // The request shows as cooling off on the open-requests gauge (from the read models) before it is due.
        while (await MetricAsync(standby, "vault_requests_open", "stage=\"cooling-off\"") < 1 && quorum.Elapsed < TimeSpan.FromSeconds(4))
            await Task.Delay(100);
        Assert.Equal(1, await MetricAsync(standby, "vault_requests_open", "stage=\"cooling-off\""));
        Assert.Equal(0, await MetricAsync(standby, "vault_requests_open", "stage=\"due\""));

        Trees.Generate(Sub("source"), seed: 12, bigFileBytes: 48 * 1024 * 1024);
        var sent = 0L;
        var progress = new Progress<PushProgress>(p => Interlocked.Exchange(ref sent, p.SegmentsSent));
        var push = Task.Run(() => new Pusher(producer.Client!, TimeProvider.System, new PushOptions { Window = 4 }).PushTreeAsync(Sub("source"), "night-1", "web", "nightly", progress, CancellationToken.None));
        while (Interlocked.Read(ref sent) < 6 && !push.IsCompleted)
            await Task.Delay(20);
        leader.Process.Kill(entireProcessTree: true); // SIGKILL the leader mid-push
        var killed = Stopwatch.StartNew();
        await leader.Process.WaitForExitAsync();

        while (!standby.Says("now leads") && killed.Elapsed < TimeSpan.FromSeconds(15))
            await Task.Delay(100);
        Assert.True(standby.Says("now leads"), "the surviving instance did not take over the scheduled work");
        Assert.True(killed.Elapsed < TimeSpan.FromSeconds(10), $"took over after {killed.Elapsed.TotalSeconds:F1} s");

        var result = await push.WaitAsync(TimeSpan.FromMinutes(3));
        Assert.Equal("night-1", result.SetId);
        while (!standby.Says("executed request del-1") && quorum.Elapsed < TimeSpan.FromSeconds(40))
            await Task.Delay(200);
        Assert.True(standby.Says("executed request del-1"), $"the due request was not executed by the survivor: {string.Join('\n', standby.Lines.TakeLast(10))}");
        Assert.True(quorum.Elapsed < TimeSpan.FromSeconds(6 + 10), $"executed {quorum.Elapsed.TotalSeconds:F1} s after quorum (due at 6 s)");

        // The survivor's endpoints: healthy, and its counters moved with the push it finished.
        var (status, body) = await HealthAsync(standby);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("healthy", body.GetProperty("status").GetString());
        Assert.True(await MetricAsync(standby, "vault_ingest_segments_accepted") > 0, "no accepted segments counted");
        Assert.Equal(1, await MetricAsync(standby, "vault_schedule_leader"));
        Assert.True(await MetricAsync(standby, "vault_readmodels_applied") > 0, "the survivor folded nothing into the read models");
        Assert.Equal("healthy", body.GetProperty("checks").GetProperty("read-models").GetProperty("status").GetString());
        var open = Stopwatch.StartNew(); // executed: neither cooling off nor due any more once the read models have it
        while (await MetricAsync(standby, "vault_requests_open") > 0 && open.Elapsed < TimeSpan.FromSeconds(5))
            await Task.Delay(100);
        Assert.Equal(0, await MetricAsync(standby, "vault_requests_open"));

        await Task.Delay(2500); // two more scheduled runs: the executed request must not execute again
        var records = await RecordsAsync();
        Assert.Single(records, r => r.Type == "RequestExecuted.v1");
        var segments = records.Where(r => r.Type == "SegmentStored.v1").Select(r => r.Stream).ToList();
        Assert.Equal(segments.Count, segments.Distinct().Count());
        Assert.Equal(0, (await Cli("log", "verify", "--vault", Sub("vault"))).Code);
        var verify = await Cli("read-models", "verify", "--vault", Sub("vault")); // two instances folded the same log: no record twice
        Assert.True(verify.Code == 0, verify.Output);
        Assert.Equal(0, (await Cli("restore", "night-1", "--to", Sub("restored"), "--vault", Sub("vault"))).Code);
        Trees.AssertSame(Sub("source"), Sub("restored"));
        Assert.NotEqual(0, (await Cli("restore", "old", "--to", Sub("restored-old"), "--vault", Sub("vault"))).Code);
    }

    [Fact]
    public async Task health_turns_unhealthy_while_the_broker_or_the_database_refuses_the_service_and_healthy_when_they_return()
    {
        // The service's own database role and virtual host, so that taking them away stops nothing else on the shared servers.
        var role = "svc_" + Guid.NewGuid().ToString("N")[..10];
        await using (var admin = new NpgsqlConnection(Pg))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE ROLE {role} LOGIN", admin);
            await create.ExecuteNonQueryAsync();
        }

        var approvers = new List<string>();
        foreach (var who in new[] { "a", "b" })
            approvers.AddRange(["--approver", (await Cli("approver", "keygen", "--name", who, "--out", Sub(who + ".key"), "--kdf-iterations", "10000")).Output]);
        Assert.Equal(0, (await Cli(["init", "--vault", Sub("vault"), "--pg-schema", _schema, "--grant-to", role, .. approvers])).Code);
        var amqp = await TestBroker.NewVirtualHostAsync();
        var vhost = new Uri(amqp).AbsolutePath.Trim('/');
        var service = Serve("health", amqp, new NpgsqlConnectionStringBuilder(Pg) { Username = role, Timeout = 3 }.ToString());

        async Task<JsonElement> WaitForAsync(string check, string wanted)
        {
            var clock = Stopwatch.StartNew();
            while (true)
            {
                var (status, body) = await HealthAsync(service);
                var state = body.GetProperty("checks").GetProperty(check).GetProperty("status").GetString();
                // An unhealthy check makes the whole endpoint answer 503; a check healthy again says nothing yet of the
                // others (the read models recover on their next catch-up, up to a period later): see AllHealthyAsync.
                if (state == wanted && (wanted == "healthy" || status == HttpStatusCode.ServiceUnavailable))
                    return body;

                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"{check} stayed {state}, never {wanted}: {body}");
                await Task.Delay(500);
            }
        }

        async Task AllHealthyAsync()
        {
            var clock = Stopwatch.StartNew();
            while (true)
            {
                var (status, body) = await HealthAsync(service);
                if (status == HttpStatusCode.OK && body.GetProperty("status").GetString() == "healthy")
                    return;
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"the service never became healthy again: {body}");
                await Task.Delay(500);
            }
        }

        await WaitForAsync("broker", "healthy");
        await WaitForAsync("log", "healthy");
        await WaitForAsync("read-models", "healthy"); // the service role made its tables in the schema init granted it
        await AllHealthyAsync();

        // The broker goes away for this service: its virtual host is deleted, every connection to it closed.
        await TestBroker.RabbitMqCtlAsync("delete_vhost", vhost);
        var down = await WaitForAsync("broker", "unhealthy");
        Assert.Equal("unhealthy", down.GetProperty("status").GetString());
        await TestBroker.RabbitMqCtlAsync("add_vhost", vhost);
        await TestBroker.RabbitMqCtlAsync("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*");
        await WaitForAsync("broker", "healthy");
        await AllHealthyAsync();

        // The database refuses the service: its role may no longer log in, and its sessions are ended.
        async Task AdminAsync(string sql)
        {
            await using var admin = new NpgsqlConnection(Pg);
            await admin.OpenAsync();
            await using var command = new NpgsqlCommand(sql, admin);
            await command.ExecuteNonQueryAsync();
        }

        await AdminAsync($"ALTER ROLE {role} NOLOGIN; SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'");
        await WaitForAsync("log", "unhealthy");
        await AdminAsync($"ALTER ROLE {role} LOGIN");
        await WaitForAsync("log", "healthy");
        await AllHealthyAsync(); // the read models and the broker too, with no restart
        Assert.False(service.Process.HasExited, "the service stopped instead of waiting for its servers");
    }
}
