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

    public static string? AmqpUri(ParseResult parse, CliContext context) =>
        parse.GetValue(Amqp) is { } flag ? Checked(flag, "--amqp")
        : context.Environment(AmqpVariable) is { } variable ? Checked(variable, AmqpVariable)
        : null;

    /// <summary>
    /// The broker's address when it is one RabbitMQ can be asked to connect to, else a usage error (exit 2) that says
    /// what is wrong with it without repeating it (it may hold a password).
    /// </summary>
    public static string Checked(string amqp, string where)
    {
        var problem = amqp.Trim().Length == 0 ? "it is empty"
            : !Uri.TryCreate(amqp, UriKind.Absolute, out var uri) ? "it is not a URI (a misspelt scheme, a port that is not a number?)"
            : uri.Scheme is not ("amqp" or "amqps") ? $"its scheme is '{uri.Scheme}', not amqp or amqps"
            : uri.Host.Length == 0 ? "it names no host"
            : null;
        return problem is null ? amqp
            : throw new Vault.Core.Errors.VaultConfigurationException($"{where} takes a RabbitMQ URI such as amqp://producer:secret@mq:5672/vault, but {problem}.");
    }
}
