using System.CommandLine;
using Ingest.Service;
using Vault.Core.Errors;
using Vault.Services;
using Vault.Storage.Segments;

namespace Vault.Ops.Commands;

/// <summary>vault serve: the ingest service on RabbitMQ, until stopped.</summary>
public static class ServeCommand
{
    private static readonly Option<int> Concurrency = new("--concurrency") { Description = "Messages handled at once per queue.", DefaultValueFactory = _ => 8, HelpName = "N" };

    private static readonly Option<string> ExecuteEvery = new("--execute-due-every")
    {
        Description = "How often to execute requests that may execute now (quorum, delay passed, no veto, retention and holds allow) and record expiries; 'off' disables it. Durations like 15m, 1h.",
        DefaultValueFactory = _ => "15m",
        HelpName = "DURATION",
    };

    private static readonly Option<long> CheckpointRecords = new("--checkpoint-every-records")
    {
        Description = "Append a signed checkpoint once this many records were written since the last one (checked on the schedule).",
        DefaultValueFactory = _ => 10_000,
        HelpName = "N",
    };

    private static readonly Option<string> CheckpointEvery = new("--checkpoint-every")
    {
        Description = "Append a signed checkpoint at least this often when anything was written; 'off' disables checkpoints from the service.",
        DefaultValueFactory = _ => "1h",
        HelpName = "DURATION",
    };

    public static Command Create(CliContext context)
    {
        var command = new Command("serve", """
            Run the ingest service: consume the vault.ingest.* queues on RabbitMQ, verify, store and record every segment,
            and answer each producer on its reply queue. Several instances may consume the same queues. On a schedule it also
            executes the requests a quorum approved once their delay has passed, and records expired ones. Stop with Ctrl-C.

            Example:
              vault serve --vault /srv/vault --amqp amqp://vault-ingest:secret@mq:5672/vault
            """)
        { IngestOptions.Amqp, Concurrency, ExecuteEvery, CheckpointRecords, CheckpointEvery };
        command.SetAction((parse, ct) => RunAsync(parse, context, ct));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, CliContext context, CancellationToken ct)
    {
        var amqp = IngestOptions.AmqpUri(parse, context)
            ?? throw new VaultConfigurationException($"'vault serve' needs a broker: pass --amqp URI or set {IngestOptions.AmqpVariable}.");
        var every = parse.GetValue(ExecuteEvery) is "off" ? (TimeSpan?)null : Durations.Parse(parse.GetValue(ExecuteEvery)!, "--execute-due-every");
        var directory = GlobalOptions.VaultDirectory(parse, context);
        var (manifest, log) = await VaultOpener.OpenAsync(directory, GlobalOptions.PostgresConnection(parse, context), context.Clock, ct);
        await using (log)
        {
            var store = new FileSegmentStore(VaultOpener.SegmentsDirectory(directory));
            var options = new IngestHostOptions { Amqp = amqp, Vault = (log, store), Concurrency = parse.GetValue(Concurrency), Clock = context.Clock };
            await using (await IngestHost.StartAsync(options, ct))
            {
                using var stopScheduler = CancellationTokenSource.CreateLinkedTokenSource(ct);
                var checkpointEvery = parse.GetValue(CheckpointEvery) is "off" ? (TimeSpan?)null : Durations.Parse(parse.GetValue(CheckpointEvery)!, "--checkpoint-every");
                var checkpointer = checkpointEvery is not null && File.Exists(Path.Combine(directory, VaultOpener.CheckpointKeyFile))
                    ? new Checkpointer(log, manifest.VaultId, VaultOpener.ReadCheckpointKey(directory), context.Clock)
                    : null;
                var due = new DueRequests(log, store, context.Clock)
                {
                    Checkpoints = checkpointer is null ? null : (checkpointer, parse.GetValue(CheckpointRecords), checkpointEvery!.Value),
                };
                var scheduler = every is { } period
                    ? due.RunAsync(period,
                        outcomes => context.Error.WriteLine(string.Join(Environment.NewLine, outcomes.Select(o => o.Action == DueRequests.Checkpointed
                        ? $"scheduler: signed a checkpoint ({o.RequestId})"
                        : $"scheduler: {o.Action} request {o.RequestId} ({o.Kind}){(o.SegmentsRemoved > 0 ? $", {o.SegmentsRemoved} segments removed" : "")}"))),
                        ex => context.Error.WriteLine($"scheduler: {ex.Message} (retrying at the next run)"), stopScheduler.Token)
                    : Task.CompletedTask;
                context.Error.WriteLine($"vault {manifest.VaultId}: ingest service consuming vault.ingest.* on {new Uri(amqp).Host}; Ctrl-C stops it.");
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                catch (OperationCanceledException)
                {
                    context.Error.WriteLine("stopping: messages in hand finish first; unacknowledged ones are redelivered.");
                }

                await stopScheduler.CancelAsync();
                await scheduler;
            }

            return ExitCodes.Ok;
        }
    }
}
