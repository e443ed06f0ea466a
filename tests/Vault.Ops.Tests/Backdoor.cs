using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;
using Vault.Core.Log;
using Vault.Storage;

namespace Vault.Ops.Tests;

/// <summary>
/// The attacker's raw access to the primary's log, as issue "Trust, part 1" tried it: the append-only triggers
/// switched off (sqlite3 as the file's owner; a PostgreSQL superuser), records edited, inserted or removed, and the
/// whole chain recomputed from docs/log-format.md, so the chain itself verifies.
/// </summary>
public sealed class Backdoor(string vault, string? postgresAdmin)
{
    public static string? PostgresAdmin => System.Environment.GetEnvironmentVariable("VAULT_TEST_PG") is { Length: > 0 } v ? v : null;

    /// <summary>Environment for CLI runs against this vault (its PostgreSQL connection, when it has one).</summary>
    public IReadOnlyDictionary<string, string> CliEnvironment =>
        postgresAdmin is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["VAULT_POSTGRES"] = postgresAdmin };

    public async Task<List<EventRecord>> ReadAsync()
    {
        var (_, log) = await VaultOpener.OpenAsync(vault, postgresAdmin, TimeProvider.System, CancellationToken.None, checkGenesis: false);
        await using (log)
        {
            var records = new List<EventRecord>();
            await foreach (var r in log.ReadAllAsync(1))
                records.Add(r);
            return records;
        }
    }

    /// <summary>Replaces the whole log with <paramref name="edit"/>'s records, renumbered and re-chained from genesis.</summary>
    public async Task RewriteAsync(Func<List<EventRecord>, List<EventRecord>> edit)
    {
        var records = edit(await ReadAsync());
        var previous = ChainHash.Genesis;
        for (var i = 0; i < records.Count; i++)
        {
            var r = records[i] with { Position = i + 1, PreviousHash = previous, RecordedAt = ChainHash.Truncate(records[i].RecordedAt) };
            records[i] = r with { Hash = ChainHash.Compute(r) };
            previous = records[i].Hash;
        }

        if (postgresAdmin is null)
            await WriteSqliteAsync(records);
        else
            await WritePostgresAsync(records);
    }

    /// <summary>Appends one forged record at the end with a valid chain link.</summary>
    public Task AppendAsync(string streamId, long streamVersion, string eventType, string payloadJson, DateTimeOffset recordedAt) =>
        RewriteAsync(records =>
        {
            records.Add(new EventRecord(0, streamId, streamVersion, eventType, System.Text.Encoding.UTF8.GetBytes(payloadJson), """{"actor":"mallory"}"""u8.ToArray(), recordedAt, [], []));
            return records;
        });

    private async Task WriteSqliteAsync(List<EventRecord> records)
    {
        Vault.Storage.Sqlite.SqliteLogBackend.ReleasePools(Path.Combine(vault, VaultOpener.SqliteFile));
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(vault, VaultOpener.SqliteFile)};Pooling=False");
        await connection.OpenAsync();
        await using var tx = connection.BeginTransaction();
        await using (var drop = new SqliteCommand("DROP TRIGGER IF EXISTS events_no_update; DROP TRIGGER IF EXISTS events_no_delete; DELETE FROM events;", connection, tx))
            await drop.ExecuteNonQueryAsync();
        foreach (var r in records)
        {
            await using var insert = new SqliteCommand("INSERT INTO events (position, stream_id, stream_version, event_type, payload, metadata, recorded_at_us, prev_hash, hash) VALUES ($p, $s, $v, $t, $pl, $m, $at, $ph, $h)", connection, tx);
            insert.Parameters.AddWithValue("$p", r.Position);
            insert.Parameters.AddWithValue("$s", r.StreamId);
            insert.Parameters.AddWithValue("$v", r.StreamVersion);
            insert.Parameters.AddWithValue("$t", r.EventType);
            insert.Parameters.AddWithValue("$pl", r.Payload);
            insert.Parameters.AddWithValue("$m", r.Metadata);
            insert.Parameters.AddWithValue("$at", r.RecordedAtMicroseconds);
            insert.Parameters.AddWithValue("$ph", r.PreviousHash);
            insert.Parameters.AddWithValue("$h", r.Hash);
            await insert.ExecuteNonQueryAsync();
        }

        await tx.CommitAsync();
    }

    private async Task WritePostgresAsync(List<EventRecord> records)
    {
        var schema = VaultManifest.Read(vault).Log.Schema!;
        await using var connection = new NpgsqlConnection(postgresAdmin);
        await connection.OpenAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await using (var drop = new NpgsqlCommand($"ALTER TABLE {schema}.events DISABLE TRIGGER USER; DELETE FROM {schema}.events;", connection, tx))
            await drop.ExecuteNonQueryAsync();
        foreach (var r in records)
        {
            await using var insert = new NpgsqlCommand($"INSERT INTO {schema}.events (position, stream_id, stream_version, event_type, payload, metadata, recorded_at, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)", connection, tx);
            insert.Parameters.Add(new NpgsqlParameter { Value = r.Position });
            insert.Parameters.Add(new NpgsqlParameter { Value = r.StreamId });
            insert.Parameters.Add(new NpgsqlParameter { Value = r.StreamVersion });
            insert.Parameters.Add(new NpgsqlParameter { Value = r.EventType });
            insert.Parameters.Add(new NpgsqlParameter { Value = r.Payload, NpgsqlDbType = NpgsqlDbType.Bytea });
            insert.Parameters.Add(new NpgsqlParameter { Value = r.Metadata, NpgsqlDbType = NpgsqlDbType.Bytea });
            insert.Parameters.Add(new NpgsqlParameter { Value = r.RecordedAt.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            insert.Parameters.Add(new NpgsqlParameter { Value = r.PreviousHash, NpgsqlDbType = NpgsqlDbType.Bytea });
            insert.Parameters.Add(new NpgsqlParameter { Value = r.Hash, NpgsqlDbType = NpgsqlDbType.Bytea });
            await insert.ExecuteNonQueryAsync();
        }

        await using (var enable = new NpgsqlCommand($"ALTER TABLE {schema}.events ENABLE TRIGGER USER;", connection, tx))
            await enable.ExecuteNonQueryAsync();
        await tx.CommitAsync();
    }
}
