using System.CommandLine;
using System.Globalization;
using Vault.Core.Log;
using Vault.Storage;
using Vault.Storage.Log;

namespace Vault.Ops.Commands;

/// <summary>vault log verify: recompute the whole chain and name the first bad position.</summary>
public static class LogVerifyCommand
{
    private static readonly Option<string?> From = new("--from")
    {
        Description = "Start after a record known good, given as POSITION:HASH (e.g. from an earlier verify); default: from genesis.",
        HelpName = "POSITION:HASH",
    };

    private static readonly Option<string?> ExpectHead = new("--expect-head")
    {
        Description = "A head known from elsewhere (a copy, a checkpoint, an earlier verify), as POSITION:HASH: the log must still reach it with that hash, which catches records cut from the end.",
        HelpName = "POSITION:HASH",
    };

    public static Command Create(CliContext context)
    {
        var command = new Command("verify", """
            Recompute every record's SHA-256 chain hash and check every link, from genesis (or --from) to the head.
            Exit 0 when intact; exit 10, naming the first bad position and what is wrong there, when not.
            The chain format is in docs/log-format.md, so the same check can be done without this tool.

            Examples:
              vault log verify --vault /srv/vault
              vault log verify --expect-head 120334:5f0c...e1 --json
            """)
        {
            From,
            ExpectHead,
        };
        command.SetAction((parse, ct) => RunAsync(parse, context, ct));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, CliContext context, CancellationToken cancellationToken)
    {
        var from = parse.GetValue(From) is { } f ? VaultOpener.ParseHead(f, "--from") : null;
        var expected = parse.GetValue(ExpectHead) is { } e ? VaultOpener.ParseHead(e, "--expect-head") : null;
        var json = parse.GetValue(GlobalOptions.Json);
        var (manifest, log) = await VaultOpener.OpenAsync(GlobalOptions.VaultDirectory(parse, context), GlobalOptions.PostgresConnection(parse, context), context.Clock, cancellationToken);
        await using (log)
        {
            var started = context.Clock.GetTimestamp();
            var progress = json ? null : new ThrottledProgress(context.Error, context.Clock);
            var report = await LogVerifier.VerifyAsync(log, from, expected, progress, cancellationToken);
            var elapsed = context.Clock.GetElapsedTime(started);
            var genesisMatches = from is not null || report.Checked == 0 || report.Violation is { Position: 1 }
                || await GenesisHashAsync(log, cancellationToken) == manifest.GenesisHash;
            var violation = report.Violation ?? (genesisMatches ? null
                : new ChainViolation(1, ViolationKind.Altered, $"the genesis hash differs from the one vault.json recorded at creation ({manifest.GenesisHash}): the whole chain was rebuilt"));

            if (json)
            {
                context.WriteJson(new
                {
                    intact = violation is null,
                    vaultId = manifest.VaultId,
                    @checked = report.Checked,
                    head = new { report.Head.Position, hash = report.Head.HashHex },
                    violation = violation is null ? null : new { violation.Position, kind = violation.Kind.ToString(), detail = violation.Detail },
                    seconds = Math.Round(elapsed.TotalSeconds, 3),
                });
            }
            else if (violation is null)
            {
                context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"intact: {report.Checked:N0} records verified in {elapsed.TotalSeconds:F2} s; head {report.Head.Position}:{report.Head.HashHex}"));
            }
            else
            {
                context.Output.WriteLine($"BROKEN at position {violation.Position} ({violation.Kind.ToString().ToLowerInvariant()}): {violation.Detail}.");
                context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Records 1 to {report.Head.Position} are intact (last good hash {report.Head.HashHex}). Do not write to this vault; compare it with a site copy."));
            }

            return violation is null ? ExitCodes.Ok : ExitCodes.IntegrityViolation;
        }
    }

    private static async Task<string?> GenesisHashAsync(IEventLog log, CancellationToken cancellationToken)
    {
        await foreach (var r in log.ReadAllAsync(1, cancellationToken))
            return r.Position == 1 ? Convert.ToHexStringLower(r.Hash) : null;
        return null;
    }

    /// <summary>A progress line on standard error at most once a second, so long verifies show they are moving.</summary>
    private sealed class ThrottledProgress(TextWriter error, TimeProvider clock) : IProgress<long>
    {
        private long _last = clock.GetTimestamp();

        public void Report(long value)
        {
            if (clock.GetElapsedTime(_last) < TimeSpan.FromSeconds(1))
                return;
            _last = clock.GetTimestamp();
            error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"verified {value:N0} records…"));
        }
    }
}
