using System.CommandLine;

namespace Vault.Ops.Commands;

/// <summary>Options shared by push and serve: which broker, and whose replies.</summary>
public static class IngestOptions
{
    public const string AmqpVariable = "VAULT_AMQP";

    public static readonly Option<string?> Amqp = new("--amqp")
    {
        Description = $"RabbitMQ URI, e.g. amqp://producer:secret@mq:5672/vault (default: ${AmqpVariable}). Without one, push runs the ingest service in-process on the vault directly.",
        HelpName = "URI",
    };

    public static string? AmqpUri(ParseResult parse, CliContext context) => parse.GetValue(Amqp) ?? context.Environment(AmqpVariable);
}
