using System.Data.Common;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Vault.Core.Errors;

namespace Vault.Storage.ReadModels;

/// <summary>
/// The embedded read models: a SQLite file beside the log (<c>log.db.read</c>). It holds nothing the log does not:
/// deleting it costs one rebuild on the next command that needs it.
/// </summary>
public sealed class SqliteReadModelStore : SqlReadModelStore
{
    private readonly string _path;
    private readonly string _connectionString;

    private SqliteReadModelStore(string path)
    {
        _path = path;
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, DefaultTimeout = 30 }.ToString();
    }

    public override string Describe => _path;

    public static async Task<SqliteReadModelStore> OpenAsync(string path, CancellationToken cancellationToken)
    {
        var store = new SqliteReadModelStore(path);
        try
        {
            await using var connection = await store.OpenAsync(cancellationToken);
            await using var ddl = connection.CreateCommand();
            ddl.CommandText = "PRAGMA journal_mode = WAL;" + store.CreateTables("text", "integer");
            await ddl.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (SqliteException ex)
        {
            throw new StorageUnavailableException($"The read models at {path} cannot be opened ({ex.Message}). They hold nothing the log does not: delete the file and they are rebuilt.", ex);
        }

        return store;
    }

    protected override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 30000;";
        await pragma.ExecuteNonQueryAsync(cancellationToken);
        return connection;
    }

    protected override string Table(string name) => name;

    protected override string TextList(string parameter) => $"json_each({parameter})";

    protected override object TextListValue(IReadOnlyCollection<string> values) => JsonSerializer.Serialize(values);

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
