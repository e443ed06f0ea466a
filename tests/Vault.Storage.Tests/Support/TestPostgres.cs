using Npgsql;
using Vault.Storage.Postgres;

namespace Vault.Storage.Tests.Support;

/// <summary>
/// The real PostgreSQL started by ops/services.sh (ops/test.sh). Each test gets a schema of its own, created by the
/// superuser as owner; the log under test connects as <see cref="ServiceRole"/>, granted USAGE, SELECT and INSERT only.
/// </summary>
public static class TestPostgres
{
    public const string ServiceRole = "vault_service";
    private static readonly Lazy<Task> RoleCreated = new(CreateServiceRoleAsync);

    /// <summary>The superuser's connection string; a missing one fails the test: PostgreSQL tests never skip.</summary>
    public static string AdminConnectionString =>
        Environment.GetEnvironmentVariable("VAULT_TEST_PG") is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException("VAULT_TEST_PG is not set, so the PostgreSQL tests cannot run. Run the tests with ops/test.sh, which starts a throwaway PostgreSQL and RabbitMQ (see README).");

    public static string ServiceConnectionString =>
        new NpgsqlConnectionStringBuilder(AdminConnectionString) { Username = ServiceRole }.ToString();

    /// <summary>Creates a fresh log schema owned by the superuser and granted to the service role.</summary>
    public static async Task<string> CreateSchemaAsync()
    {
        await RoleCreated.Value;
        var schema = "t_" + Guid.NewGuid().ToString("N")[..16];
        await using var backend = await PostgresLogBackend.OpenAsync(AdminConnectionString, schema, create: true, grantTo: ServiceRole);
        return schema;
    }

    public static Task ExecuteAsAdminAsync(string sql, params object[] parameters) => ExecuteAsAdminAsync(false, sql, parameters);

    /// <param name="bypassTriggers">Act as a superuser going behind the service's back: triggers do not fire.</param>
    public static async Task ExecuteAsAdminAsync(bool bypassTriggers, string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        if (bypassTriggers)
        {
            await using var replica = new NpgsqlCommand("SET session_replication_role = replica", connection);
            await replica.ExecuteNonQueryAsync();
        }

        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var p in parameters)
            command.Parameters.Add(new NpgsqlParameter { Value = p });
        await command.ExecuteNonQueryAsync();
    }

    private static Task CreateServiceRoleAsync() => ExecuteAsAdminAsync($"""
        DO $$ BEGIN
            CREATE ROLE {ServiceRole} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$;
        """);
}
