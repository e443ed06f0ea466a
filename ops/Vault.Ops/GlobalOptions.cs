using System.CommandLine;

namespace Vault.Ops;

/// <summary>Options every command takes: where the vault is, which PostgreSQL to use, and JSON output.</summary>
public static class GlobalOptions
{
    public const string VaultDirVariable = "VAULT_DIR";
    public const string PostgresVariable = "VAULT_POSTGRES";

    public static readonly Option<string?> Vault = new("--vault")
    {
        Description = $"The vault directory (default: ${VaultDirVariable}).",
        HelpName = "DIR",
        Recursive = true,
    };

    public static readonly Option<string?> Postgres = new("--postgres")
    {
        Description = $"PostgreSQL connection string for a vault whose log is in PostgreSQL, e.g. 'Host=db;Username=vault_service;Database=vault' (default: ${PostgresVariable}).",
        HelpName = "CONNECTION",
        Recursive = true,
    };

    public static readonly Option<bool> Json = new("--json")
    {
        Description = "Answer with one JSON document on standard output, for scripts.",
        Recursive = true,
    };

    public static string VaultDirectory(ParseResult parse, CliContext context) =>
        parse.GetValue(Vault) ?? context.Environment(VaultDirVariable)
        ?? throw new Core.Errors.VaultConfigurationException($"Say which vault: pass --vault DIR or set {VaultDirVariable}.");

    public static string? PostgresConnection(ParseResult parse, CliContext context) =>
        parse.GetValue(Postgres) ?? context.Environment(PostgresVariable);
}
