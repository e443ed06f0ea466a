using System.CommandLine;
using System.Globalization;
using Vault.Services;
using Vault.Storage.Segments;

namespace Vault.Ops.Commands;

/// <summary>vault restore: rebuild a sealed set, every segment checked against its hash.</summary>
public static class RestoreCommand
{
    private static readonly Argument<string> Set = new("SET") { Description = "The set to restore ('vault sets list')." };
    private static readonly Option<string> To = new("--to") { Description = "A new or empty directory, or '-' for standard output (stream sets).", Required = true, HelpName = "DIR|-" };

    public static Command Create(CliContext context)
    {
        var command = new Command("restore", """
            Restore a sealed set: a directory tree into a new or empty directory (contents, modes, mtimes, symlinks),
            or a stream set to standard output. Every segment is verified against its SHA-256 on the way.

            Examples:
              vault restore www-2026-11-23 --to /tmp/www-restored
              vault restore app-db-2026-11-23 --to - | psql app
            """)
        { Set, To };
        command.SetAction((parse, ct) => RunAsync(parse, context, ct));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, CliContext context, CancellationToken ct)
    {
        var directory = GlobalOptions.VaultDirectory(parse, context);
        var (_, log) = await VaultOpener.OpenAsync(directory, GlobalOptions.PostgresConnection(parse, context), context.Clock, ct);
        await using (log)
        {
            var restorer = new SetRestorer(log, new FileSegmentStore(VaultOpener.SegmentsDirectory(directory)));
            var to = parse.GetValue(To)!;
            var started = context.Clock.GetTimestamp();
            var result = to == "-"
                ? await restorer.RestoreStreamAsync(parse.GetValue(Set)!, Console.OpenStandardOutput(), ct)
                : await restorer.RestoreTreeAsync(parse.GetValue(Set)!, to, null, ct);
            var seconds = Math.Max(context.Clock.GetElapsedTime(started).TotalSeconds, 1e-6);
            var summary = string.Create(CultureInfo.InvariantCulture, $"restored {result.SetId}: {result.Files:N0} files, {result.Bytes / 1e6:N1} MB, {result.Segments:N0} segments verified, {seconds:F1} s");
            if (parse.GetValue(GlobalOptions.Json) && to != "-")
                context.WriteJson(new { result.SetId, result.Files, result.Bytes, result.Segments, seconds = Math.Round(seconds, 3) });
            else
                (to == "-" ? context.Error : context.Output).WriteLine(summary);
            return ExitCodes.Ok;
        }
    }
}
