// Appends to a vault log in a loop and prints "ok FIRST LAST STREAM" after each append returns,
// so a test can kill it with SIGKILL at any moment and check that every acknowledged append survived.
// Usage: Vault.CrashHelper sqlite PATH | postgres CONNECTION SCHEMA
// Or, with "segments DIRECTORY": eight writers store new segments and print "stored HASH" after each put returns.
using System.Text;
using Vault.Core.Segments;
using Vault.Storage.Segments;
using Vault.Core.Log;
using Vault.Storage;
using Vault.Storage.Log;
using Vault.Storage.Postgres;
using Vault.Storage.Sqlite;

if (args[0] == "segments")
{
    var store = new FileSegmentStore(args[1]);
    Console.WriteLine("ready");
    var output = Console.Out;
    await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
    {
        var random = new Random(Environment.ProcessId * 16 + w);
        for (var i = 0; ; i++)
        {
            var data = new byte[random.Next(1, 300_000)];
            random.NextBytes(data.AsSpan(0, data.Length / 2)); // half random, half zeros: compresses somewhat
            var hash = SegmentHash.Of(data);
            await store.PutAsync(hash, data);
            lock (output)
            {
                output.WriteLine($"stored {hash.Hex}");
                output.Flush();
            }
        }
    })));
    return;
}

ILogBackend backend = args[0] switch
{
    "sqlite" => await SqliteLogBackend.OpenAsync(args[1], create: true),
    "postgres" => await PostgresLogBackend.OpenAsync(args[1], args[2], create: false),
    _ => throw new ArgumentException("first argument: sqlite or postgres"),
};
await using IEventLog log = new GroupCommitEventLog(backend);
var stdout = Console.Out;
Console.WriteLine("ready");
var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
{
    for (var i = 0; ; i++)
    {
        var stream = $"crash-{w}";
        var events = Enumerable.Range(0, 1 + (i % 3))
            .Select(k => new EventData("CrashTested", Encoding.UTF8.GetBytes($"{{\"writer\":{w},\"i\":{i},\"k\":{k}}}")))
            .ToArray();
        var result = await log.AppendAsync(stream, ExpectedVersion.Any, events);
        lock (stdout)
        {
            stdout.WriteLine($"ok {result.FirstPosition} {result.LastPosition} {stream}");
            stdout.Flush();
        }
    }
}));
await Task.WhenAll(writers);
