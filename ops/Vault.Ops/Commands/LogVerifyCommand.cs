using System.CommandLine;
using System.Globalization;
using Rotation.Service;
using Vault.Core.Checkpoints;
using Vault.Core.Governance;
using Vault.Core.Log;
using Vault.Core.Vaults;
using Vault.Services;
using Vault.Storage;
using Vault.Storage.Log;

namespace Vault.Ops.Commands;

/// <summary>vault log verify: the chain, the meaning of every record, and every copy of the head that left the primary.</summary>
public static class LogVerifyCommand
{
    private static readonly Option<string?> From = new("--from")
    {
        Description = "Chain check only: start after a record known good, given as POSITION:HASH (e.g. from an earlier verify).",
        HelpName = "POSITION:HASH",
    };

    private static readonly Option<string[]> ExpectHead = new("--expect-head")
    {
        Description = "A head known from elsewhere, as POSITION:HASH: the log must hold exactly that hash at that position. Repeatable.",
        HelpName = "POSITION:HASH",
    };

    private static readonly Option<FileInfo[]> CheckpointFiles = new("--checkpoint")
    {
        Description = "A checkpoint copy (checkpoint.json, from 'vault log checkpoint --copy-to' or a site root) to compare the log with. Repeatable.",
        HelpName = "FILE",
    };

    private static readonly Option<DirectoryInfo[]> Images = new("--images")
    {
        Description = "A directory of tape images (*.vtape): each image's header carries the checkpoint it was written under. Repeatable.",
        HelpName = "DIR",
    };

    private static readonly Option<bool> ChainOnly = new("--chain-only")
    {
        Description = "Check only the hash chain (fast path): not signatures, quorums, delays, stream versions or checkpoints.",
    };

    public static Command Create(CliContext context)
    {
        var command = new Command("verify", """
            Verify the log three ways, from genesis to the head:
              chain    every record's SHA-256 chain hash and every link (docs/log-format.md);
              meaning  every record replayed through the vault's own rules: each signature against the approver keys
                       in force when it was made, each quorum, delay, veto, expiry and execution recomputed from the
                       signed records, governance changes and hold releases against their requests, stream versions
                       without gaps, stream ids and payloads well formed, checkpoints signed and matching;
              copies   every head known from outside the primary must be in the log with the same hash: checkpoint
                       copies at the site roots (found from the rotation policy), in tape images (--images), in files
                       (--checkpoint), given by hand (--expect-head), and the heads each approver witnessed when signing.
            Exit 0 when everything holds; exit 10 naming each bad position and the rule it breaks.
            What this catches and from when: docs/log-format.md, "What verification proves".

            Examples:
              vault log verify --vault /srv/vault
              vault log verify --images /mnt/offsite-a --checkpoint ~/checkpoint-2026-12-01.json --json
              vault log verify --chain-only
            """)
        {
            From,
            ExpectHead,
            CheckpointFiles,
            Images,
            ChainOnly,
        };
        command.SetAction((parse, ct) => RunAsync(parse, context, ct));
        return command;
    }

    private sealed record CopyUsed(string Source, long Position, string Head);

    private static async Task<int> RunAsync(ParseResult parse, CliContext context, CancellationToken cancellationToken)
    {
        var from = parse.GetValue(From) is { } f ? VaultOpener.ParseHead(f, "--from") : null;
        var chainOnly = parse.GetValue(ChainOnly) || from is not null;
        var json = parse.GetValue(GlobalOptions.Json);
        var directory = GlobalOptions.VaultDirectory(parse, context);
        var (manifest, log) = await VaultOpener.OpenAsync(directory, GlobalOptions.PostgresConnection(parse, context), context.Clock, cancellationToken, checkGenesis: false);
        await using (log)
        {
            var started = context.Clock.GetTimestamp();
            var problems = new List<string>();
            var claims = new List<HeadClaim>();
            foreach (var text in parse.GetValue(ExpectHead) ?? [])
            {
                var head = VaultOpener.ParseHead(text, "--expect-head");
                claims.Add(new HeadClaim($"--expect-head {head.Position}", head.Position, head.HashHex));
            }

            RotationJournal? rotation = null;
            if (!chainOnly)
            {
                rotation = await LoadRotationAsync(log, problems, cancellationToken);
                claims.AddRange(await GatherCopiesAsync(parse, directory, manifest.VaultId, log, rotation, problems, cancellationToken));
            }

            var verifier = chainOnly ? null : new HistoryVerifier(RotationJournal.EventTypes, claims);
            var progress = json ? null : new ThrottledProgress(context.Error, context.Clock);
            var trusted = chainOnly && claims.Count > 0 ? new LogHead(claims[0].Position, Convert.FromHexString(claims[0].Head)) : null;
            var report = await LogVerifier.VerifyAsync(log, from, trusted, progress, cancellationToken, verifier);
            verifier?.Finish(report.Head);
            var elapsed = context.Clock.GetElapsedTime(started);
            var genesisMatches = from is not null || report.Checked == 0 || report.Violation is { Position: 1 }
                || await GenesisHashAsync(log, cancellationToken) == manifest.GenesisHash;
            var violation = report.Violation ?? (genesisMatches ? null
                : new ChainViolation(1, ViolationKind.Altered, $"the genesis hash differs from the one vault.json recorded at creation ({manifest.GenesisHash}): the whole chain was rebuilt"));
            // The rotation's own rule: a record that loosens protection without a re-proved approval (RotationGuard).
            var findings = (verifier?.Findings ?? []).Concat(rotation?.Findings ?? []).OrderBy(x => x.Position).ToList();
            var findingCount = (verifier?.FindingCount ?? 0) + (rotation?.Findings.Count ?? 0);
            var intact = violation is null && findings.Count == 0 && problems.Count == 0;
            var copies = claims.Select(c => new CopyUsed(c.Source, c.Position, c.Head)).ToList();

            if (json)
            {
                context.WriteJson(new
                {
                    intact,
                    mode = chainOnly ? "chain" : "chain+meaning+copies",
                    vaultId = manifest.VaultId,
                    @checked = report.Checked,
                    head = new { report.Head.Position, hash = report.Head.HashHex },
                    violation = violation is null ? null : new { violation.Position, kind = violation.Kind.ToString(), detail = violation.Detail },
                    findings = findings.Select(x => new { x.Position, x.Rule, x.Detail }),
                    findingCount,
                    copies,
                    copyProblems = problems,
                    seconds = Math.Round(elapsed.TotalSeconds, 3),
                });
            }
            else
            {
                if (violation is not null)
                {
                    context.Output.WriteLine($"BROKEN at position {violation.Position} ({violation.Kind.ToString().ToLowerInvariant()}): {violation.Detail}.");
                    context.Output.WriteLine(violation.Position > 1
                        ? string.Create(CultureInfo.InvariantCulture, $"The chain holds for records 1 to {violation.Position - 1}. Do not write to this vault; compare it with a site copy.")
                        : "No record of this log can be trusted. Do not write to this vault; rebuild it from the site copies.");
                }

                foreach (var x in findings.Take(50))
                    context.Output.WriteLine($"VIOLATION at position {x.Position} ({x.Rule}): {x.Detail}.");
                if (findingCount > 50)
                    context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"… {findingCount - 50:N0} more (--json lists up to 1,000)."));
                foreach (var problem in problems)
                    context.Output.WriteLine($"COPY PROBLEM: {problem}.");
                if (intact)
                {
                    context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"intact: {report.Checked:N0} records verified ({(chainOnly ? "chain only" : "chain and meaning")}) in {elapsed.TotalSeconds:F2} s; head {report.Head.Position}:{report.Head.HashHex}"));
                    if (!chainOnly)
                        context.Output.WriteLine(copies.Count == 0
                            ? "No copy of a checkpoint was found outside the log: a rewrite of the whole history would not be caught. Run 'vault rotation run' or 'vault log checkpoint --copy-to FILE' and keep the copy elsewhere."
                            : $"{copies.Count} heads known from outside agree: {string.Join("; ", copies.Select(c => c.Source).Distinct().Take(8))}{(copies.Count > 8 ? "; …" : "")}");
                }
                else if (violation is null && findings.Count > 0)
                {
                    context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"The chain holds, but {findingCount:N0} records break the vault's rules: someone wrote the log behind the vault's back. Nothing the rules refuse is acted on; compare with a site copy."));
                }
            }

            return intact ? ExitCodes.Ok : ExitCodes.IntegrityViolation;
        }
    }

    /// <summary>Every checkpoint copy this verify can reach: the site roots of the rotation policy, --images, --checkpoint.</summary>
    private static async Task<RotationJournal?> LoadRotationAsync(IEventLog log, List<string> problems, CancellationToken ct)
    {
        try
        {
            return await RotationJournal.LoadAsync(log, "verify", null, ct);
        }
        catch (Exception ex) when (ex is Core.Errors.VaultException or System.Text.Json.JsonException)
        {
            problems.Add($"the rotation journal cannot be read to find the site roots ({ex.Message})");
            return null;
        }
    }

    private static async Task<List<HeadClaim>> GatherCopiesAsync(ParseResult parse, string directory, string vaultId, IEventLog log, RotationJournal? journal, List<string> problems, CancellationToken ct)
    {
        var copies = new List<(string Source, CheckpointCopy Copy)>();

        if (journal?.State.Policy is { } policy)
        {
            foreach (var (site, path) in RotationService.SiteCopies(directory, policy))
                Add($"site {site} ({path})", path);
            foreach (var (site, copy, problem) in await RotationService.CustodianCopiesAsync(directory, policy, ct))
            {
                if (copy is not null)
                    copies.Add(($"custodian of {site}", copy));
                else if (problem is not null)
                    problems.Add($"the custodian of {site} could not be asked for its checkpoint ({problem})");
            }
        }

        foreach (var file in parse.GetValue(CheckpointFiles) ?? [])
        {
            if (!file.Exists)
                throw new Core.Errors.VaultConfigurationException($"--checkpoint {file.FullName} does not exist.");
            Add($"checkpoint file {file.FullName}", file.FullName);
        }

        foreach (var dir in parse.GetValue(Images) ?? [])
        {
            if (!dir.Exists)
                throw new Core.Errors.VaultConfigurationException($"--images {dir.FullName} is not a directory.");
            foreach (var image in Directory.EnumerateFiles(dir.FullName, "*" + SiteLayout.Extension, SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                if (TapeHeader.ReadFrom(image) is not { } header)
                    problems.Add($"{image} has no readable tape header");
                else if (header.Checkpoint is { } copy)
                    copies.Add(($"image {header.Label} ({image})", copy));
            }
        }

        var claims = new List<HeadClaim>();
        foreach (var (source, copy) in copies)
        {
            if (copy.VaultId != vaultId)
            {
                problems.Add($"{source} belongs to vault {copy.VaultId}, not {vaultId}");
                continue;
            }

            if (!copy.IsSignedByItsGenesis())
                problems.Add($"{source} is not signed by the checkpoint key of the genesis it names: it was forged or damaged");
            claims.Add(new HeadClaim(source, copy.Checkpoint.Position, copy.Checkpoint.Head, copy.Checkpoint.MerkleRoot, copy.GenesisHash));
        }

        return claims;

        void Add(string source, string path)
        {
            var (copy, problem) = Checkpointer.ReadCopy(path);
            if (copy is not null)
                copies.Add((source, copy));
            else
                problems.Add(problem!);
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
