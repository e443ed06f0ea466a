using System.Data.Common;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using SQLitePCL;
using Vault.Core.ReadModels;
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
        _connectionString = ConnectionString(path);
    }

    public override string Describe => _path;

    internal static string ConnectionString(string path) => new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, DefaultTimeout = 30 }.ToString();

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

    /// <summary>
    /// Every set through SQLite's own calls on one read-only statement: Microsoft.Data.Sqlite's checks per column
    /// made 'sets list' over 100,000 sets cost 0.45 s in reading rows alone (docs/benchmarks.md, "Read models").
    /// </summary>
    public override Task<IReadOnlyList<SetRow>> ListSetsAsync(CancellationToken cancellationToken) =>
        Task.FromResult(ReadAll($"SELECT {SetColumns} FROM sets ORDER BY opened_at", h => new SetRow(
            Text(h, 0)!, (int)Int(h, 1), Text(h, 2)!, Text(h, 3)!, Text(h, 4)!, Text(h, 5)!, Time(Int(h, 6)),
            Text(h, 7), Int(h, 8), Int(h, 9), Int(h, 10), Int(h, 11),
            Null(h, 12) ? null : Time(Int(h, 12)), Null(h, 13) ? null : Time(Int(h, 13)), Time(Int(h, 14)),
            Text(h, 15), Text(h, 16), Int(h, 17), Int(h, 18), Int(h, 19), Int(h, 20)), cancellationToken));

    /// <summary>The listing the same way; the covering index sets_listing serves it alone.</summary>
    public override Task<IReadOnlyList<SetListingRow>> ListSetListingsAsync(CancellationToken cancellationToken) =>
        Task.FromResult(ReadAll($"SELECT {ListingColumns} FROM sets ORDER BY opened_at", h => new SetListingRow(
            Text(h, 0)!, Text(h, 1)!, Text(h, 2)!, (int)Int(h, 3), Int(h, 4), Int(h, 5), Time(Int(h, 6)),
            Null(h, 7) ? null : Time(Int(h, 7)), Time(Int(h, 8)), Text(h, 9)), cancellationToken));

    /// <summary>Every row of one read-only statement, each made by <paramref name="row"/> from the statement's handle.</summary>
    private IReadOnlyList<T> ReadAll<T>(string sql, Func<IntPtr, T> row, CancellationToken cancellationToken)
    {
        var rows = new List<T>();
        var rc = raw.sqlite3_open_v2(_path, out var db, raw.SQLITE_OPEN_READONLY | raw.SQLITE_OPEN_NOMUTEX, null);
        using (db)
        {
            Check(rc, db);
            Check(raw.sqlite3_busy_timeout(db, 30_000), db);
            Check(raw.sqlite3_prepare_v2(db, sql, out var statement), db);
            using (statement)
            {
                var added = false;
                statement.DangerousAddRef(ref added);
                try
                {
                    var h = statement.DangerousGetHandle();
                    for (var n = 0; ; n++)
                    {
                        rc = Sqlite.SqliteColumns.Step(h);
                        if (rc == raw.SQLITE_DONE)
                            break;
                        if (rc != raw.SQLITE_ROW)
                            Check(rc, db);
                        if ((n & 4095) == 0)
                            cancellationToken.ThrowIfCancellationRequested();
                        rows.Add(row(h));
                    }
                }
                finally
                {
                    if (added)
                        statement.DangerousRelease();
                }
            }
        }

        return rows;
    }

    private static string? Text(IntPtr statement, int column) => Sqlite.SqliteColumns.Text(statement, column);

    private static long Int(IntPtr statement, int column) => Sqlite.SqliteColumns.Int64(statement, column);

    private static bool Null(IntPtr statement, int column) => Sqlite.SqliteColumns.IsNull(statement, column);

    private void Check(int rc, sqlite3 db)
    {
        if (rc != raw.SQLITE_OK)
            throw new StorageUnavailableException($"The read models at {_path} cannot be read ({raw.sqlite3_errmsg(db).utf8_to_string()}). They hold nothing the log does not: delete the file and they are rebuilt.");
    }

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
