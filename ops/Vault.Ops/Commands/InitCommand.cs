using System.CommandLine;
using Vault.Core.Errors;
using Vault.Core.Governance;
using Vault.Core.Log;
using Vault.Core.Vaults;
using Vault.Storage;
using Vault.Storage.Log;
using Vault.Storage.Postgres;

namespace Vault.Ops.Commands;

/// <summary>vault init: a new vault directory, its log and the genesis record; all or nothing.</summary>
public static class InitCommand
{
    private static readonly Option<string> Schema = new("--pg-schema")
    {
        Description = "The PostgreSQL schema for the log (only with --postgres).",
        DefaultValueFactory = _ => PostgresSchema.DefaultName,
        HelpName = "NAME",
    };

    private static readonly Option<string?> GrantTo = new("--grant-to")
    {
        Description = "With --postgres, run as the schema owner: grant this service role USAGE, SELECT and INSERT only (docs/postgres.md).",
        HelpName = "ROLE",
    };

    private static readonly Option<string[]> Approvers = new("--approver")
    {
        Description = "An approver as NAME=PUBLICKEYHEX, as 'vault approver keygen' prints it. Repeat for each; at least as many as --quorum.",
        HelpName = "NAME=KEY",
        Required = true,
    };

    private static readonly Option<int> Quorum = new("--quorum")
    {
        Description = "How many distinct approvers must sign a deletion or a governance change (at least 2).",
        DefaultValueFactory = _ => 2,
        HelpName = "M",
    };

    private static readonly Option<string> CoolingOff = new("--cooling-off") { Description = "Delay between quorum and execution, during which any approver can veto.", DefaultValueFactory = _ => "72h", HelpName = "DURATION" };
    private static readonly Option<string> RequestExpiry = new("--request-expiry") { Description = "A request without quorum by then is denied.", DefaultValueFactory = _ => "14d", HelpName = "DURATION" };
    private static readonly Option<string> MinimumRetention = new("--min-retention") { Description = "Every sealed set is kept at least this long, whatever the quorum.", DefaultValueFactory = _ => "30d", HelpName = "DURATION" };

    public static Command Create(CliContext context)
    {
        var command = new Command("init", """
            Create a vault: the directory, its tamper-evident log and the genesis record.
            The log is a SQLite file in the directory unless --postgres is given. Nothing is left behind if any step fails.

            Examples:
              vault init --vault /srv/vault --approver alice=3b6a...e1 --approver bob=9f0c...27 --approver carol=58d2...aa --quorum 2
              vault init --vault /srv/vault --approver ... --postgres "Host=db;Username=vault_owner;Database=vault" --grant-to vault_service
            """)
        {
            Approvers, Quorum, CoolingOff, RequestExpiry, MinimumRetention, Schema, GrantTo,
        };
        command.SetAction((parse, ct) => RunAsync(parse, context, ct));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, CliContext context, CancellationToken cancellationToken)
    {
        var directory = Path.GetFullPath(GlobalOptions.VaultDirectory(parse, context));
        var rules = Rules(parse);
        var postgres = GlobalOptions.PostgresConnection(parse, context);
        if (File.Exists(VaultManifest.PathIn(directory)))
            throw new VaultAlreadyExistsException($"{directory} is already a vault; nothing was changed. Use another directory to create a new vault.");
        if (File.Exists(directory))
            throw new VaultConfigurationException($"{directory} is a file, not a directory.");
        if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any())
            throw new VaultConfigurationException($"{directory} is not empty; a vault is created in a new or empty directory so nothing of it is mixed with other files.");

        var location = postgres is null
            ? new LogLocation(LogLocation.Sqlite, File: VaultOpener.SqliteFile)
            : new LogLocation(LogLocation.Postgres, Schema: PostgresSchema.Validate(parse.GetValue(Schema)!));
        var createdDirectory = !Directory.Exists(directory);
        Directory.CreateDirectory(directory);
        try
        {
            var backend = await VaultOpener.OpenBackendAsync(directory, location, postgres, create: true, parse.GetValue(GrantTo), cancellationToken);
            await using var log = new GroupCommitEventLog(backend, new GroupCommitOptions { Clock = context.Clock });
            if ((await log.ReadHeadAsync(cancellationToken)).Position != 0)
                throw new VaultAlreadyExistsException($"The log at {log.Describe} already holds records; it belongs to another vault. Use another --pg-schema.");

            var now = context.Clock.GetUtcNow();
            var (checkpointPrivate, checkpointPublic) = Ed25519.CreateKeyPair();
            VaultOpener.WriteCheckpointKey(directory, checkpointPrivate);
            var genesis = new VaultCreated(Guid.NewGuid().ToString("N"), VaultManifest.CurrentFormat, ChainHash.Truncate(now), GovernanceDocument.From(rules), Convert.ToHexStringLower(checkpointPublic));
            await log.AppendAsync(VaultStreams.Vault, ExpectedVersion.NoStream, [genesis.ToEventData("vault init")], cancellationToken);
            var head = await log.ReadHeadAsync(cancellationToken);
            new VaultManifest(VaultManifest.CurrentFormat, genesis.VaultId, genesis.CreatedAt, location, head.HashHex).Write(directory);

            if (parse.GetValue(GlobalOptions.Json))
            {
                context.WriteJson(new { vaultId = genesis.VaultId, directory, log = new { location.Backend, location.File, location.Schema, where = log.Describe }, genesis = new { head.Position, hash = head.HashHex }, governance = GovernanceDocument.From(rules) });
            }
            else
            {
                context.Output.WriteLine($"Created vault {genesis.VaultId} in {directory}");
                context.Output.WriteLine($"  log:     {(location.Backend == LogLocation.Sqlite ? "SQLite " : "PostgreSQL ")}{log.Describe}");
                context.Output.WriteLine($"  genesis: {head.Position}:{head.HashHex}");
                context.Output.WriteLine($"  rules:   {rules.Quorum} of {rules.Approvers.Count} approvers ({string.Join(", ", rules.Approvers.Select(a => a.Id))}); cooling-off {Durations.Format(rules.CoolingOff)}, requests expire after {Durations.Format(rules.RequestExpiry)}, minimum retention {Durations.Format(rules.MinimumRetention)}");
                context.Output.WriteLine("Keep the genesis hash somewhere else too: 'vault log verify' proves the log still starts with it.");
            }

            return ExitCodes.Ok;
        }
        catch
        {
            Cleanup(directory, createdDirectory);
            throw;
        }
    }

    /// <summary>NAME=PUBLICKEYHEX as 'vault approver keygen' prints it; a clear error naming the option otherwise.</summary>
    public static Approver ParseApprover(string text, string option)
    {
        var parts = text.Split('=', 2);
        try
        {
            return new Approver(parts[0], parts.Length == 2 ? Convert.FromHexString(parts[1]) : []);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException)
        {
            throw new VaultConfigurationException($"{option} '{text}': {(parts.Length == 2 ? ex.Message : "use NAME=PUBLICKEYHEX, as 'vault approver keygen' prints it.")}");
        }
    }

    private static GovernanceRules Rules(ParseResult parse)
    {
        var approvers = new List<Approver>();
        foreach (var text in parse.GetValue(Approvers) ?? [])
            approvers.Add(ParseApprover(text, "--approver"));

        try
        {
            return new GovernanceRules(approvers, parse.GetValue(Quorum),
                Durations.Parse(parse.GetValue(CoolingOff)!, "--cooling-off"), Durations.Parse(parse.GetValue(RequestExpiry)!, "--request-expiry"),
                Durations.Parse(parse.GetValue(MinimumRetention)!, "--min-retention"));
        }
        catch (ArgumentException ex)
        {
            throw new VaultConfigurationException(ex.Sentence());
        }
    }

    /// <summary>Leaves no half-made vault: removes what init wrote (a PostgreSQL schema created for it stays, empty, and is reused by the next init).</summary>
    private static void Cleanup(string directory, bool createdDirectory)
    {
        Vault.Storage.Sqlite.SqliteLogBackend.ReleasePools(Path.Combine(directory, VaultOpener.SqliteFile));
        foreach (var name in new[] { VaultManifest.FileName, VaultManifest.FileName + ".tmp", VaultOpener.CheckpointKeyFile, VaultOpener.SqliteFile, VaultOpener.SqliteFile + "-wal", VaultOpener.SqliteFile + "-shm" })
        {
            try { File.Delete(Path.Combine(directory, name)); }
            catch (IOException) { }
        }

        if (createdDirectory)
        {
            try { Directory.Delete(directory, recursive: false); }
            catch (IOException) { }
        }
    }
}
