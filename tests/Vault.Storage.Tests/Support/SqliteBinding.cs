using Microsoft.Data.Sqlite;
using Vault.Core.Log;
using Vault.Storage.Log;
using Vault.Storage.Sqlite;

namespace Vault.Storage.Tests.Support;

public sealed class SqliteBinding : ILogBinding
{
    private readonly string _directory = Directory.CreateTempSubdirectory("vault-sqlite-").FullName;

    public string Path => System.IO.Path.Combine(_directory, "log.db");

    public async Task<IEventLog> OpenAsync(TimeProvider? clock = null) =>
        new GroupCommitEventLog(await SqliteLogBackend.OpenAsync(Path, create: true), new GroupCommitOptions { Clock = clock ?? TimeProvider.System });

    public Task DeleteBehindAsync(long position) =>
        ExecuteBehindAsync("DELETE FROM events WHERE position = $p", ("$p", position));

    public Task InsertBehindAsync(EventRecord r) =>
        ExecuteBehindAsync(
            "INSERT INTO events VALUES ($p, $s, $v, $t, $pl, $m, $at, $ph, $h)",
            ("$p", r.Position), ("$s", r.StreamId), ("$v", r.StreamVersion), ("$t", r.EventType), ("$pl", r.Payload),
            ("$m", r.Metadata), ("$at", r.RecordedAtMicroseconds), ("$ph", r.PreviousHash), ("$h", r.Hash));

    public async Task<IReadOnlyList<Exception>> TryRewriteAsServiceAsync()
    {
        var errors = new List<Exception>();
        await using var connection = new SqliteConnection($"Data Source={Path};Pooling=False");
        await connection.OpenAsync();
        foreach (var sql in new[] { "UPDATE events SET payload = x'00' WHERE position = 1", "DELETE FROM events WHERE position = 1", "DELETE FROM events" })
        {
            try
            {
                await using var command = new SqliteCommand(sql, connection);
                await command.ExecuteNonQueryAsync();
            }
            catch (SqliteException ex)
            {
                errors.Add(ex);
            }
        }

        return errors;
    }

    public ValueTask DisposeAsync()
    {
        SqliteLogBackend.ReleasePools(Path);
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>What a person with the file can do: drop the triggers, then write.</summary>
    private async Task ExecuteBehindAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new SqliteConnection($"Data Source={Path};Pooling=False");
        await connection.OpenAsync();
        await using (var drop = new SqliteCommand("DROP TRIGGER IF EXISTS events_no_update; DROP TRIGGER IF EXISTS events_no_delete;", connection))
            await drop.ExecuteNonQueryAsync();
        await using var command = new SqliteCommand(sql, connection);
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value);
        await command.ExecuteNonQueryAsync();
    }
}
