using System.CommandLine;
using System.Text.Json;
using Vault.Core.Errors;
using Vault.Ops.Commands;

namespace Vault.Ops;

/// <summary>The 'vault' command line: parsing, dispatch, and turning every failure into one sentence and a documented exit code.</summary>
public static class VaultCli
{
    public static RootCommand Build(CliContext context)
    {
        var root = Root(context);
        foreach (var command in RotationCommands.Create(context))
            root.Subcommands.Add(command);
        root.Subcommands.Add(DemoCommand.Create(context));
        return root;
    }

    private static RootCommand Root(CliContext context) => new("""
        vault: an immutable, event-sourced backup vault.
        Every write and every deletion request is a record in an append-only, hash-chained log.
        The vault is chosen with --vault DIR or $VAULT_DIR. Exit codes: docs/cli.md.
        """)
    {
        GlobalOptions.Vault,
        GlobalOptions.Postgres,
        GlobalOptions.Json,
        InitCommand.Create(context),
        LogCommands.Create(context),
        AuditCommands.Create(context),
        PushCommand.Create(context),
        RestoreCommand.Create(context),
        RecoverCommand.Create(context),
        CheckCommand.Create(context),
        SetsCommands.Create(context),
        ReadModelCommands.Create(context),
        ServeCommand.Create(context),
        ApproverCommands.Create(context),
        DeletionCommands.Create(context),
        DeletionCommands.CreateRequestGroup(context),
        RetentionCommands.Create(context),
        HoldCommands.Create(context),
        GovernanceCommands.Create(context),
    };

    public static async Task<int> RunAsync(string[] args, CliContext context, CancellationToken cancellationToken = default)
    {
        var root = Build(context);
        var parse = root.Parse(args);
        var json = parse.GetValue(GlobalOptions.Json);
        if (parse.Errors.Count > 0)
        {
            var message = string.Join(" ", parse.Errors.Select(e => e.Message));
            var command = string.Join(' ', parse.CommandResult.Command.Name == root.Name ? ["vault"] : new[] { "vault" }.Concat(CommandPath(parse)));
            Report(context, json, ExitCodes.Usage, "usage", $"{message} Run '{command} --help' to see what it takes.");
            return ExitCodes.Usage;
        }

        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { Output = context.Output, Error = context.Error, EnableDefaultExceptionHandler = false }, cancellationToken);
        }
        catch (VaultException ex)
        {
            var code = ExitCodes.For(ex.Kind);
            Report(context, json, code, ex.Kind.ToString(), ex.Message);
            return code;
        }
        catch (OperationCanceledException)
        {
            Report(context, json, ExitCodes.Cancelled, "cancelled", "Cancelled; nothing half-written is left: every append is all or nothing.");
            return ExitCodes.Cancelled;
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            Report(context, json, ExitCodes.Unavailable, "io", $"{ex.Message} Check the path and its permissions.");
            return ExitCodes.Unavailable;
        }
        catch (Exception ex)
        {
            var detail = context.Environment("VAULT_DEBUG") is "1" ? Environment.NewLine + ex : "";
            Report(context, json, ExitCodes.InternalError, "internal",
                $"Internal error ({ex.GetType().Name}: {ex.Message}). This is a bug; please report it with the command you ran (set VAULT_DEBUG=1 for details).{detail}");
            return ExitCodes.InternalError;
        }
    }

    private static IEnumerable<string> CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var result = parse.CommandResult; result?.Parent is System.CommandLine.Parsing.CommandResult parent; result = parent)
            names.Insert(0, result.Command.Name);
        return names;
    }

    private static void Report(CliContext context, bool json, int exitCode, string kind, string message)
    {
        if (json)
            context.Output.WriteLine(JsonSerializer.Serialize(new { error = new { kind, message, exitCode } }, CliContext.Json));
        context.Error.WriteLine($"vault: {message}");
    }
}
