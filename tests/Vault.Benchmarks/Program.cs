// Event log throughput, printed as figures (docs/benchmarks.md). Not a test: nothing here passes or fails.
// Usage: dotnet run -c Release --project tests/Vault.Benchmarks -- [sqlite|postgres|both|verify|readmodels] [--events N] [--sets N]
// PostgreSQL comes from $VAULT_TEST_PG (ops/bench.sh starts a throwaway server and sets it).
using System.Diagnostics;
using System.Globalization;
using Vault.Core.Log;
using Vault.Storage;
using Vault.Storage.Log;
using Vault.Storage.Postgres;
using Vault.Storage.Sqlite;

var which = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? "both";
var total = args.SkipWhile(a => a != "--events").Skip(1).Select(int.Parse).FirstOrDefault(200_000);
if (which == "readmodels")
{
    // dotnet run -c Release --project tests/Vault.Benchmarks -- readmodels [--sets N] [--runs R]  (default 10,000 sets, 5 runs)
    Console.WriteLine($"read model benchmark: {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd}");
    await ReadModelBenchmark.RunAsync(args.SkipWhile(a => a != "--sets").Skip(1).Select(int.Parse).FirstOrDefault(10_000), args.SkipWhile(a => a != "--runs").Skip(1).Select(int.Parse).FirstOrDefault(5));
    return;
}

if (which == "verify")
{
    // dotnet run -c Release --project tests/Vault.Benchmarks -- verify [--events N]  (default 1,000,000)
    Console.WriteLine($"verify benchmark: {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd}");
    await VerifyBenchmark.RunAsync(args.Contains("--events") ? total : 1_000_000);
    return;
}

var payload = new byte[300];
new Random(1).NextBytes(payload);
var json = System.Text.Encoding.UTF8.GetBytes("{\"data\":\"" + Convert.ToBase64String(payload)[..284] + "\"}"); // 300 bytes of JSON
var metadata = """{"actor":"bench"}"""u8.ToArray();
Console.WriteLine($"event log benchmark: {json.Length}-byte payloads, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd}");

foreach (var backend in which == "both" ? ["sqlite", "postgres"] : new[] { which })
{
    Console.WriteLine();
    Console.WriteLine($"== {backend} ==");
    var dir = Directory.CreateTempSubdirectory("vault-bench-").FullName;
    var schema = "bench_" + Guid.NewGuid().ToString("N")[..8];
    async Task<IEventLog> Open() => new GroupCommitEventLog(backend == "sqlite"
        ? await SqliteLogBackend.OpenAsync(Path.Combine(dir, "log.db"), create: true)
        : await PostgresLogBackend.OpenAsync(Environment.GetEnvironmentVariable("VAULT_TEST_PG") ?? throw new InvalidOperationException("set VAULT_TEST_PG (ops/bench.sh does)"), schema, create: true));

    await using (var log = await Open())
    {
        await Run(log, "1 appender, 1 event per append", Math.Min(total / 20, 5_000), 1, 1, 1);
        await Run(log, "16 appenders, 1 event per append (group commit)", total / 4, 16, 1, 1);
        await Run(log, "16 appenders, 1 event per append, 8 appends in flight each", total, 16, 8, 1);
        await Run(log, "16 appenders, 100 events per append", total, 16, 1, 100);
        var started = Stopwatch.GetTimestamp();
        long read = 0;
        await foreach (var _ in log.ReadAllAsync())
            read++;
        Print("read whole log (no hashing)", read, Stopwatch.GetElapsedTime(started).TotalSeconds, "");
        started = Stopwatch.GetTimestamp();
        var report = await LogVerifier.VerifyAsync(log);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        Print("verify whole log", report.Checked, seconds, report.Intact ? "intact" : report.Violation!.ToString());

        // What ingest does per segment before storing it: read a set's short stream and look for a stream that is not there.
        await log.AppendAsync("lookup-set", ExpectedVersion.NoStream, [new EventData("BenchmarkEvent.v1", json, metadata), new EventData("BenchmarkEvent.v1", json, metadata)]);
        foreach (var readers in new[] { 1, 8 })
        {
            const int Lookups = 20_000;
            started = Stopwatch.GetTimestamp();
            await Task.WhenAll(Enumerable.Range(0, readers).Select(r => Task.Run(async () =>
            {
                for (var i = 0; i < Lookups / readers; i++)
                {
                    await foreach (var _ in log.ReadStreamAsync(i % 2 == 0 ? "lookup-set" : $"lookup-missing-{r}-{i}"))
                    {
                    }
                }
            })));
            seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{$"stream look-ups, {readers} reader(s) (half a 2-event stream, half missing)",-62} {Lookups,9:N0} reads  {seconds,7:F2} s {Lookups / seconds,12:N0} reads/s  {seconds * 1e6 / Lookups,6:F1} µs each"));
        }
    }

    Directory.Delete(dir, recursive: true);
}

async Task Run(IEventLog log, string name, int events, int appenders, int inFlight, int perAppend)
{
    var appendsPerWorker = events / appenders / perAppend / inFlight;
    var data = Enumerable.Range(0, perAppend).Select(_ => new EventData("BenchmarkEvent.v1", json, metadata)).ToArray();
    var started = Stopwatch.GetTimestamp();
    await Task.WhenAll(Enumerable.Range(0, appenders * inFlight).Select(w => Task.Run(async () =>
    {
        for (var i = 0; i < appendsPerWorker; i++)
            await log.AppendAsync($"{name.GetHashCode():x}-{w % appenders}", ExpectedVersion.Any, data);
    })));
    var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
    Print(name, (long)appendsPerWorker * appenders * inFlight * perAppend, seconds, "");
}

static void Print(string name, long events, double seconds, string note) =>
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-62} {events,9:N0} events {seconds,7:F2} s {events / seconds,12:N0} events/s  {note}"));
