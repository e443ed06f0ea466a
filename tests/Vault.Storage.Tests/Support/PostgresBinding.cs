using Npgsql;
using NpgsqlTypes;
using Vault.Core.Log;
using Vault.Storage.Log;
using Vault.Storage.Postgres;

namespace Vault.Storage.Tests.Support;

public sealed class PostgresBinding : ILogBinding
{
    private string? _schema;

    public async Task<string> SchemaAsync() => _schema ??= await TestPostgres.CreateSchemaAsync();

    public async Task<IEventLog> OpenAsync(TimeProvider? clock = null) =>
        new GroupCommitEventLog(
            await PostgresLogBackend.OpenAsync(TestPostgres.ServiceConnectionString, await SchemaAsync(), create: false),
            new GroupCommitOptions { Clock = clock ?? TimeProvider.System });

    public async Task DeleteBehindAsync(long position) =>
        await TestPostgres.ExecuteAsAdminAsync(true, $"DELETE FROM {await SchemaAsync()}.events WHERE position = $1", position);

    public async Task InsertBehindAsync(EventRecord r)
    {
        await using var connection = new NpgsqlConnection(TestPostgres.AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"INSERT INTO {await SchemaAsync()}.events VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)", connection)
        {
            Parameters =
            {
                new() { Value = r.Position }, new() { Value = r.StreamId }, new() { Value = r.StreamVersion }, new() { Value = r.EventType },
                new() { Value = r.Payload }, new() { Value = r.Metadata }, new() { Value = r.RecordedAt.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz },
                new() { Value = r.PreviousHash }, new() { Value = r.Hash },
            },
        };
        await command.ExecuteNonQueryAsync();
    }

    public async Task<IReadOnlyList<Exception>> TryRewriteAsServiceAsync()
    {
        var schema = await SchemaAsync();
        var errors = new List<Exception>();
        await using var connection = new NpgsqlConnection(TestPostgres.ServiceConnectionString);
        await connection.OpenAsync();
        foreach (var sql in new[] { $"UPDATE {schema}.events SET payload = '\\x00' WHERE position = 1", $"DELETE FROM {schema}.events WHERE position = 1", $"TRUNCATE {schema}.events" })
        {
            try
            {
                await using var command = new NpgsqlCommand(sql, connection);
                await command.ExecuteNonQueryAsync();
            }
            catch (PostgresException ex)
            {
                errors.Add(ex);
            }
        }

        return errors;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
