using System.CommandLine;
using System.Globalization;
using Ingest.Service.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Vault.Core.Errors;
using Vault.Services;
using Vault.Storage.Segments;

namespace Vault.Ops.Commands;

/// <summary>
/// vault serve: the ingest service on RabbitMQ and the vault's schedule, on the .NET Generic Host, until stopped.
/// Settings come from a JSON file (--config), then VAULT_* environment variables, then flags, each overriding the one
/// before (docs/operations.md).
/// </summary>
public static class ServeCommand
{
    private static readonly Option<FileInfo?> Config = new("--config")
    {
        Description = "A JSON settings file (docs/operations.md, ops/serve.example.json): any setting below by its key, plus a 'Logging' section. Environment variables VAULT_<KEY> and flags override it.",
        HelpName = "FILE",
    };

    private static readonly Option<int?> Concurrency = new("--concurrency") { Description = "Messages handled at once per queue (key Concurrency; default 8).", HelpName = "N" };

    private static readonly Option<string?> ExecuteEvery = new("--execute-due-every")
    {
        Description = "How often the scheduled work runs: execute requests that may execute now (quorum, delay passed, no veto, retention and holds allow), record expiries, sign checkpoints. 'off': this instance never runs it. With several instances, one leads it at a time (key ExecuteDueEvery; default 15m).",
        HelpName = "DURATION",
    };

    private static readonly Option<string?> QueueType = new("--queue-type")
    {
        Description = "'classic' or 'quorum': the type the ingest queues are declared with. Quorum queues are replicated across a RabbitMQ cluster (a node lost loses no acknowledged message); a queue keeps the type it was made with (key QueueType; default classic).",
        HelpName = "TYPE",
    };

    private static readonly Option<long?> CheckpointRecords = new("--checkpoint-every-records")
    {
        Description = "Sign a checkpoint once this many records were written since the last one, checked on the schedule (key CheckpointEveryRecords; default 10000).",
        HelpName = "N",
    };

    private static readonly Option<string?> CheckpointEvery = new("--checkpoint-every")
    {
        Description = "Sign a checkpoint at least this often when anything was written; 'off' disables checkpoints from the service (key CheckpointEvery; default 1h).",
        HelpName = "DURATION",
    };

    private static readonly Option<string?> Listen = new("--listen")
    {
        Description = "Serve /health, /health/live and /metrics (Prometheus) at this address, e.g. http://127.0.0.1:9464; 'off' for none (key Listen; default off).",
        HelpName = "URL",
    };

    private static readonly Option<string?> LogFormat = new("--log-format")
    {
        Description = "Logs on standard error as 'json' (one object a line, for journald and collectors) or 'text' (key LogFormat; default json).",
        HelpName = "FORMAT",
    };

    private static readonly Option<string?> Instance = new("--instance")
    {
        Description = "This instance's name in logs (key Instance; default HOST:PID).",
        HelpName = "NAME",
    };

    public static Command Create(CliContext context)
    {
        var command = new Command("serve", """
            Run the ingest service: consume the vault.ingest.* queues on RabbitMQ, verify, store and record every segment,
            and answer each producer on its reply queue. On a schedule it also executes the requests a quorum approved once
            their delay has passed, records expired ones and signs checkpoints.

            Several instances may serve one vault whose log is in PostgreSQL (and whose segment store they share): they
            compete for the same queues, and one at a time leads the scheduled work (a PostgreSQL advisory lock; another
            takes over within 2 s when the leader stops or dies). SIGTERM or Ctrl-C drain the messages in hand, then exit 0.

            Settings, each overriding the one before: --config FILE (JSON), environment variables VAULT_<KEY> (VAULT_AMQP,
            VAULT_POSTGRES, VAULT_DIR, VAULT_LISTEN, VAULT_CONCURRENCY, VAULT_EXECUTE_DUE_EVERY, ...), then flags.
            docs/operations.md has every key, the systemd unit (ops/vault-serve.service), metrics and health.

            Examples:
              vault serve --vault /srv/vault --amqp amqp://vault-ingest:secret@mq:5672/vault
              vault serve --config /etc/vault/serve.json --listen http://127.0.0.1:9464
            """)
        { IngestOptions.Amqp, Config, Concurrency, QueueType, ExecuteEvery, CheckpointRecords, CheckpointEvery, Listen, LogFormat, Instance };
        command.SetAction((parse, ct) => RunAsync(parse, context, ct));
        return command;
    }

    /// <summary>The settings as layered: file, then VAULT_* variables (through the CLI's environment), then flags given.</summary>
    internal static IConfiguration Settings(ParseResult parse, CliContext context)
    {
        var builder = new ConfigurationBuilder();
        if (parse.GetValue(Config) is { } file)
        {
            if (!file.Exists)
                throw new VaultConfigurationException($"The settings file {file.FullName} does not exist. Pass an existing JSON file to --config (ops/serve.example.json shows one).");
            try
            {
                builder.AddJsonFile(file.FullName, optional: false);
                builder.Build();
            }
            catch (Exception ex) when (ex is FormatException or InvalidDataException or System.Text.Json.JsonException)
            {
                throw new VaultConfigurationException($"The settings file {file.FullName} is not valid JSON ({(ex.InnerException ?? ex).Message.TrimEnd('.')}). Fix it and start again.", ex);
            }
        }

        var variables = new Dictionary<string, string?>();
        foreach (var key in new[] { "Dir", "Postgres", "Amqp", "Concurrency", "ExecuteDueEvery", "CheckpointEvery", "CheckpointEveryRecords", "Listen", "LogFormat", "Instance", "ShutdownTimeout", "ReadModelsEvery", "QueueType" })
        {
            if (context.Environment("VAULT_" + Snake(key)) is { } value)
                variables[key] = value;
        }

        builder.AddInMemoryCollection(variables);
        builder.AddEnvironmentVariables("VAULT_SERVE_"); // any other key, e.g. VAULT_SERVE_Logging__LogLevel__MassTransit=Debug
        var flags = new Dictionary<string, string?>
        {
            ["Dir"] = parse.GetValue(GlobalOptions.Vault),
            ["Postgres"] = parse.GetValue(GlobalOptions.Postgres),
            ["Amqp"] = parse.GetValue(IngestOptions.Amqp),
            ["Concurrency"] = parse.GetValue(Concurrency)?.ToString(CultureInfo.InvariantCulture),
            ["QueueType"] = parse.GetValue(QueueType),
            ["ExecuteDueEvery"] = parse.GetValue(ExecuteEvery),
            ["CheckpointEvery"] = parse.GetValue(CheckpointEvery),
            ["CheckpointEveryRecords"] = parse.GetValue(CheckpointRecords)?.ToString(CultureInfo.InvariantCulture),
            ["Listen"] = parse.GetValue(Listen),
            ["LogFormat"] = parse.GetValue(LogFormat),
            ["Instance"] = parse.GetValue(Instance),
        };
        builder.AddInMemoryCollection(flags.Where(f => f.Value is not null));
        return builder.Build();
    }

    private static string Snake(string key) => string.Concat(key.Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + c : char.ToUpperInvariant(c).ToString()));

    private static TimeSpan? Duration(IConfiguration settings, string key, string fallback) =>
        (settings[key] ?? fallback) is "off" ? null : Durations.Parse(settings[key] ?? fallback, $"{key} (--{string.Concat(key.Select((c, i) => i > 0 && char.IsUpper(c) ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()))})");

    private static T Number<T>(IConfiguration settings, string key, T fallback, T minimum) where T : struct, System.Numerics.INumber<T>, IParsable<T>
    {
        if (settings[key] is not { } text)
            return fallback;
        return T.TryParse(text, CultureInfo.InvariantCulture, out var value) && value >= minimum
            ? value
            : throw new VaultConfigurationException($"{key} takes a whole number of at least {minimum}; got '{text}'.");
    }

    private static async Task<int> RunAsync(ParseResult parse, CliContext context, CancellationToken ct)
    {
        var settings = Settings(parse, context);
        var amqp = settings["Amqp"] is { } configured ? IngestOptions.Checked(configured, "Amqp (--amqp)")
            : throw new VaultConfigurationException($"'vault serve' needs a broker: pass --amqp URI, set {IngestOptions.AmqpVariable}, or put Amqp in the --config file.");
        var directory = settings["Dir"]
            ?? throw new VaultConfigurationException($"Say which vault: pass --vault DIR, set {GlobalOptions.VaultDirVariable}, or put Dir in the --config file.");
        var listen = settings["Listen"] is null or "off" ? null : settings["Listen"];
        if (listen is not null && (!Uri.TryCreate(listen, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https")))
            throw new VaultConfigurationException($"Listen (--listen) takes an address such as http://127.0.0.1:9464; got '{listen}'.");
        var format = settings["LogFormat"] ?? "json";
        if (format is not ("json" or "text"))
            throw new VaultConfigurationException($"LogFormat (--log-format) is 'json' or 'text'; got '{format}'.");
        var queueType = settings["QueueType"] ?? "classic";
        if (queueType is not ("classic" or "quorum"))
            throw new VaultConfigurationException($"QueueType (--queue-type) is 'classic' or 'quorum'; got '{queueType}'.");
        var every = Duration(settings, "ExecuteDueEvery", "15m");
        var checkpointEvery = Duration(settings, "CheckpointEvery", "1h");

        var (manifest, log) = await VaultOpener.OpenAsync(directory, settings["Postgres"], context.Clock, ct);
        await using (log)
        {
            var checkpointer = checkpointEvery is not null && File.Exists(Path.Combine(directory, VaultOpener.CheckpointKeyFile))
                ? new Checkpointer(log, manifest.VaultId, VaultOpener.ReadCheckpointKey(directory), context.Clock)
                : null;
            var service = new ServiceSettings
            {
                VaultId = manifest.VaultId,
                Log = log,
                Store = new FileSegmentStore(VaultOpener.SegmentsDirectory(directory), new SegmentStoreOptions { Clock = context.Clock }),
                Amqp = amqp,
                Concurrency = Number(settings, "Concurrency", 8, 1),
                QueueType = queueType,
                ScheduleEvery = every,
                Checkpoints = checkpointer is null ? null : (checkpointer, Number(settings, "CheckpointEveryRecords", 10_000L, 1L), checkpointEvery!.Value),
                Leadership = log.Leadership?.Lease("scheduler"),
                Listen = listen,
                LogFormat = format,
                Instance = settings["Instance"] ?? $"{Environment.MachineName}:{Environment.ProcessId}",
                ShutdownTimeout = Duration(settings, "ShutdownTimeout", "30s") ?? TimeSpan.FromSeconds(30),
                Clock = context.Clock,
                ReadModelsEvery = Duration(settings, "ReadModelsEvery", "250ms"),
            };
            using var host = ServiceHost.Build(service, settings);
            try
            {
                await host.RunAsync(ct);
            }
            catch (IOException ex) when (listen is not null && ex.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                throw new VaultConfigurationException($"Cannot listen on {listen}: the address is in use. Pick another port with --listen, or 'off'.", ex);
            }

            return ExitCodes.Ok;
        }
    }
}
