using System.CommandLine;
using System.Globalization;
using Ingest.Client;
using Ingest.Service;
using Vault.Storage.Segments;

namespace Vault.Ops.Commands;

/// <summary>vault push: back up a directory or standard input as a new set.</summary>
public static class PushCommand
{
    private static readonly Argument<string> Source = new("PATH") { Description = "The directory to back up, or '-' for standard input." };
    private static readonly Option<string> Set = new("--set") { Description = "The new set's id, e.g. web-2026-11-23 (lower-case letters, digits, '.', '_', '-').", Required = true, HelpName = "SET" };
    private static readonly Option<string> SourceSystem = new("--source") { Description = "The system the data comes from, e.g. web01.", Required = true, HelpName = "SYSTEM" };
    private static readonly Option<string?> Cache = new("--cache")
    {
        Description = "Where to keep the last manifest of each pushed directory, so files with the same path, size, mtime and inode are not read again (default: $XDG_CACHE_HOME/vault or ~/.cache/vault).",
        HelpName = "DIR",
    };

    private static readonly Option<bool> NoCache = new("--no-cache") { Description = "Read every file, ignoring and not updating the cache." };

    private static readonly Option<string> Producer = new("--producer") { Description = "This producer's name: its replies come on queue vault.reply.NAME.", DefaultValueFactory = _ => "cli", HelpName = "NAME" };

    public static Command Create(CliContext context)
    {
        var command = new Command("push", """
            Back up a directory (or standard input) as a new set. Data is cut into content-defined segments; only
            segments the vault does not hold yet are compressed and sent. The set counts as a backup once sealed.

            Examples:
              vault push /srv/www --set www-2026-11-23 --source web01 --vault /srv/vault
              pg_dump app | vault push - --set app-db-2026-11-23 --source db01 --amqp amqp://web01:secret@mq/vault
            """)
        { Source, Set, SourceSystem, Producer, IngestOptions.Amqp, Cache, NoCache };
        command.SetAction((parse, ct) => RunAsync(parse, context, ct));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, CliContext context, CancellationToken ct)
    {
        var amqp = IngestOptions.AmqpUri(parse, context);
        var json = parse.GetValue(GlobalOptions.Json);
        Storage.Log.GroupCommitEventLog? log = null;
        var options = new IngestHostOptions { Amqp = amqp, Producer = parse.GetValue(Producer), Clock = context.Clock };
        if (amqp is null)
        {
            var directory = GlobalOptions.VaultDirectory(parse, context);
            (_, log) = await VaultOpener.OpenAsync(directory, GlobalOptions.PostgresConnection(parse, context), context.Clock, ct);
            options = options with { Vault = (log, new FileSegmentStore(VaultOpener.SegmentsDirectory(directory), new SegmentStoreOptions { Clock = context.Clock })), Direct = true }; // no bus: the handler in this process
        }

        // A bus (about 0.3 s to start) starts while the push walks the tree and reads changed files: it is needed only to ask and send.
        var starting = Task.Run(() => IngestHost.StartAsync(options, ct), ct);

        var progress = json ? null : new ProgressLine(context);
        try
        {
            var pusher = new Pusher(ClientOf(starting), context.Clock, amqp is null ? null : new PushOptions { FramePoolBytes = PushOptions.BrokerFramePoolBytes });
            var path = parse.GetValue(Source)!;
            var cacheFile = path == "-" || parse.GetValue(NoCache) ? null : CacheFile(parse, context, path);
            var result = path == "-"
                ? await pusher.PushStreamAsync(Console.OpenStandardInput(), parse.GetValue(Set)!, parse.GetValue(SourceSystem)!, parse.GetValue(Set)!, progress, ct)
                : await pusher.PushTreeAsync(path, parse.GetValue(Set)!, parse.GetValue(SourceSystem)!, parse.GetValue(Set)!, progress, ct, ReadCache(cacheFile));
            if (cacheFile is not null)
                WriteCache(cacheFile, result.Manifest);
            var t = result.Totals;
            var seconds = Math.Max(result.Elapsed.TotalSeconds, 1e-6);
            if (json)
            {
                context.WriteJson(new
                {
                    setId = result.SetId, manifest = result.ManifestHash, t.Files, t.FilesUnchanged, t.BytesRead, t.BytesSent, t.Segments, t.SegmentsSent, t.SegmentsDeduplicated,
                    deduplicatedShare = Math.Round(t.DeduplicatedShare, 4), seconds = Math.Round(seconds, 3), megabytesPerSecond = Math.Round(t.BytesRead / 1e6 / seconds, 1),
                });
            }
            else
            {
                progress?.Finish();
                context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"sealed {result.SetId}: {t.Files:N0} files ({t.FilesUnchanged:N0} unchanged, not read), {t.BytesRead / 1e6:N1} MB read, {t.Segments:N0} segments ({t.DeduplicatedShare:P0} already in the vault), {t.BytesSent / 1e6:N1} MB sent, {seconds:F1} s, {t.BytesRead / 1e6 / seconds:N1} MB/s"));
            }

            return ExitCodes.Ok;
        }
        finally
        {
            progress?.Finish(); // an error message starts on a line of its own
            if (await Started(starting, context.Clock) is { } host)
                await host.DisposeAsync();
            if (log is not null)
                await log.DisposeAsync();
        }
    }

    private static async Task<IngestClient> ClientOf(Task<IngestHost> starting) => (await starting).Client!;

    /// <summary>
    /// The started host, to close it cleanly. A push that failed early (a bad path, say) does not keep the operator
    /// waiting for a bus still trying to connect: it waits a few seconds at most, and the process ends anyway.
    /// </summary>
    private static async Task<IngestHost?> Started(Task<IngestHost> starting, TimeProvider clock)
    {
        await Task.WhenAny(starting, Task.Delay(TimeSpan.FromSeconds(5), clock));
        return starting.IsCompletedSuccessfully ? starting.Result : null;
    }

    /// <summary>One cache file per source system and pushed directory.</summary>
    private static string CacheFile(ParseResult parse, CliContext context, string path)
    {
        var directory = parse.GetValue(Cache)
            ?? Path.Combine(context.Environment("XDG_CACHE_HOME") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "vault");
        var key = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(parse.GetValue(SourceSystem) + "\n" + Path.GetFullPath(path))))[..24];
        return Path.Combine(directory, key + ".manifest.json");
    }

    /// <summary>The last manifest, or null when there is none or it cannot be read (then every file is read: always safe).</summary>
    private static Core.Sets.Manifest? ReadCache(string? file)
    {
        try
        {
            return file is not null && File.Exists(file) ? Core.Sets.Manifest.Parse(File.ReadAllBytes(file)) : null;
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or IOException)
        {
            return null;
        }
    }

    private static void WriteCache(string file, Core.Sets.Manifest manifest)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllBytes(file + ".tmp", manifest.ToBytes());
        File.Move(file + ".tmp", file, overwrite: true);
    }

    /// <summary>
    /// Bytes, segments, deduplicated share and rate on standard error: on a terminal one line rewritten at most twice a
    /// second; otherwise (a log file, a pipe) a plain line every 10 seconds.
    /// </summary>
    private sealed class ProgressLine(CliContext context) : IProgress<PushProgress>
    {
        private readonly long _started = context.Clock.GetTimestamp();
        private long _last;
        private bool _open;

        public void Finish()
        {
            if (_open)
                context.Error.WriteLine();
            _open = false;
        }

        public void Report(PushProgress p)
        {
            var terminal = context.IsErrorTerminal;
            if (context.Clock.GetElapsedTime(_last) < TimeSpan.FromMilliseconds(terminal ? 500 : 10_000))
                return;
            _last = context.Clock.GetTimestamp();
            _open = terminal;
            var seconds = Math.Max(context.Clock.GetElapsedTime(_started).TotalSeconds, 1e-3);
            var line = string.Create(CultureInfo.InvariantCulture,
                $"{p.BytesRead / 1e6,10:N1} MB  {p.Segments,7:N0} segments  {p.DeduplicatedShare,4:P0} dedup  {p.BytesSent / 1e6,9:N1} MB sent  {p.BytesRead / 1e6 / seconds,7:N1} MB/s ");
            if (terminal)
                context.Error.Write("\r" + line);
            else
                context.Error.WriteLine(line.Trim());
        }
    }
}
