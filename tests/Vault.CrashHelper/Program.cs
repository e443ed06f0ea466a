// Appends to a vault log in a loop and prints "ok FIRST LAST STREAM" after each append returns,
// so a test can kill it with SIGKILL at any moment and check that every acknowledged append survived.
// Usage: Vault.CrashHelper sqlite PATH | postgres CONNECTION SCHEMA
using System.Text;
using Vault.Core.Log;
using Vault.Storage;
using Vault.Storage.Log;
using Vault.Storage.Postgres;
using Vault.Storage.Sqlite;

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
