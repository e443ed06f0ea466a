using System.Data.Common;
using Npgsql;
using Vault.Core.Errors;
using Vault.Storage.ReadModels;

namespace Vault.Storage.Postgres;

/// <summary>
/// The read models on PostgreSQL: ordinary tables in the schema <c>{log schema}_read</c>, beside the append-only log.
/// 'vault init' creates that schema and lets the service role create and change tables in it (docs/postgres.md); the
/// tables hold nothing the log does not, and 'vault read-models rebuild' refills them from it.
/// </summary>
public sealed class PostgresReadModelStore : SqlReadModelStore
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _schema;
    private readonly string _where;

    private PostgresReadModelStore(NpgsqlDataSource dataSource, string schema, string where)
    {
        _dataSource = dataSource;
        _schema = schema;
        _where = where;
    }

    public override string Describe => $"{_where} (read models in schema {_schema})";

    public static string SchemaFor(string logSchema) => PostgresSchema.Validate(logSchema + "_read");

    internal static async Task<PostgresReadModelStore> OpenAsync(NpgsqlDataSource dataSource, string logSchema, string where, CancellationToken cancellationToken)
    {
        var store = new PostgresReadModelStore(dataSource, SchemaFor(logSchema), where);
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            // CREATE SCHEMA needs CREATE on the database even when the schema exists: only when it is missing.
            await using (var exists = new NpgsqlCommand($"SELECT to_regnamespace('{store._schema}') IS NOT NULL", connection))
            {
                if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken))!)
                {
                    await using var schema = new NpgsqlCommand($"CREATE SCHEMA IF NOT EXISTS {store._schema}", connection);
                    await schema.ExecuteNonQueryAsync(cancellationToken);
                }
            }

            await using var ddl = new NpgsqlCommand(store.CreateTables("text", "bigint"), connection);
            await ddl.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.InsufficientPrivilege)
        {
            throw new StorageRefusedException(
                $"The read models need the schema {store._schema}, which this role may not create or use ({ex.MessageText}). As the log schema's owner run: " +
                $"CREATE SCHEMA IF NOT EXISTS {store._schema}; GRANT ALL ON SCHEMA {store._schema} TO <service role>; (docs/postgres.md).", ex);
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.UniqueViolation)
        {
            // Two instances created the tables at the same moment: the other one's are there now.
        }

        return store;
    }

    protected override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken) => await _dataSource.OpenConnectionAsync(cancellationToken);

    protected override string Table(string name) => $"{_schema}.{name}";

    protected override string TextList(string parameter) => $"unnest({parameter}::text[]) AS t(value)";

    protected override object TextListValue(IReadOnlyCollection<string> values) => values.ToArray();

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
