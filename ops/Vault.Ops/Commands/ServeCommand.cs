using System.CommandLine;
using Ingest.Service;
using Vault.Core.Errors;
using Vault.Storage.Segments;

namespace Vault.Ops.Commands;

/// <summary>vault serve: the ingest service on RabbitMQ, until stopped.</summary>
public static class ServeCommand
{
    private static readonly Option<int> Concurrency = new("--concurrency") { Description = "Messages handled at once per queue.", DefaultValueFactory = _ => 8, HelpName = "N" };

    public static Command Create(CliContext context)
    {
        var command = new Command("serve", """
            Run the ingest service: consume the vault.ingest.* queues on RabbitMQ, verify, store and record every segment,
            and answer each producer on its reply queue. Several instances may consume the same queues. Stop with Ctrl-C.

            Example:
              vault serve --vault /srv/vault --amqp amqp://vault-ingest:secret@mq:5672/vault
            """)
        { IngestOptions.Amqp, Concurrency };
        command.SetAction((parse, ct) => RunAsync(parse, context, ct));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, CliContext context, CancellationToken ct)
    {
        var amqp = IngestOptions.AmqpUri(parse, context)
            ?? throw new VaultConfigurationException($"'vault serve' needs a broker: pass --amqp URI or set {IngestOptions.AmqpVariable}.");
        var directory = GlobalOptions.VaultDirectory(parse, context);
        var (manifest, log) = await VaultOpener.OpenAsync(directory, GlobalOptions.PostgresConnection(parse, context), context.Clock, ct);
        await using (log)
        {
            var options = new IngestHostOptions { Amqp = amqp, Vault = (log, new FileSegmentStore(VaultOpener.SegmentsDirectory(directory))), Concurrency = parse.GetValue(Concurrency), Clock = context.Clock };
            await using (await IngestHost.StartAsync(options, ct))
            {
                context.Error.WriteLine($"vault {manifest.VaultId}: ingest service consuming vault.ingest.* on {new Uri(amqp).Host}; Ctrl-C stops it.");
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                catch (OperationCanceledException)
                {
                    context.Error.WriteLine("stopping: messages in hand finish first; unacknowledged ones are redelivered.");
                }
            }

            return ExitCodes.Ok;
        }
    }
}
