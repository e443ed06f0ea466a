using System.Data.Common;
using Vault.Core.ReadModels;

namespace Vault.Storage.ReadModels;

/// <summary>
/// The read-model tables over ADO.NET, written once for both backends; a backend supplies its connections, its DDL
/// and the two statements whose SQL differs (a list of ids as a parameter, and inserting many references at once).
/// Times are kept as UTC ticks, hashes as lower-case hex.
/// </summary>
public abstract class SqlReadModelStore : IReadModelStore
{
    /// <summary>Bumped when the projection's meaning changes: a store written under another format is rebuilt.</summary>
    public const int Format = 2; // 2: the requests table

    protected const string SetColumns =
        "set_id, status, source, name, kind, labels, opened_time, manifest_hash, manifest_length, segment_count, file_count, total_bytes, " +
        "sealed_retain_until, sealed_time, retain_until, holds, deleted_by, segments_recorded, stored_bytes, opened_at, changed_at";

    public abstract string Describe { get; }

    protected abstract Task<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>SQL for "the value of <paramref name="parameter"/>, a list of text, as a set" (SQLite: json_each; PostgreSQL: unnest).</summary>
    protected abstract string TextList(string parameter);

    /// <summary>The value to bind for <see cref="TextList"/>.</summary>
    protected abstract object TextListValue(IReadOnlyCollection<string> values);

    /// <summary>Adds every (set, hash) reference; an existing one stays.</summary>
    protected virtual async Task InsertReferencesAsync(DbConnection connection, DbTransaction tx, string setId, IReadOnlyCollection<string> hashes, CancellationToken ct)
    {
        await using var insert = Command(connection, tx, $"INSERT INTO {Table("refs")} (hash, set_id) SELECT value, @set FROM {TextList("@hashes")} WHERE true ON CONFLICT DO NOTHING",
            ("@set", setId), ("@hashes", TextListValue(hashes)));
        await insert.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The table's name as written in SQL (a schema-qualified one on PostgreSQL).</summary>
    protected abstract string Table(string name);

    public abstract ValueTask DisposeAsync();

    public async Task<ReadModelCheckpoint> ReadCheckpointAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await ReadCheckpointAsync(connection, null, cancellationToken);
    }

    private async Task<ReadModelCheckpoint> ReadCheckpointAsync(DbConnection connection, DbTransaction? tx, CancellationToken ct)
    {
        await using var read = Command(connection, tx, $"SELECT position, hash, format FROM {Table("checkpoint")} WHERE id = 1");
        await using var reader = await read.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
            return ReadModelCheckpoint.Empty;
        return reader.GetInt32(2) != Format
            ? new ReadModelCheckpoint(-1, new byte[32]) // another format: the projector rebuilds
            : new ReadModelCheckpoint(reader.GetInt64(0), Convert.FromHexString(reader.GetString(1)));
    }

    public async Task<bool> CommitAsync(ReadModelCheckpoint expected, ReadModelCheckpoint next, ReadModelBatch batch, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        // Move the checkpoint first: on PostgreSQL the row lock makes a second projector wait here, then find it moved.
        await using (var move = Command(connection, tx,
            $"UPDATE {Table("checkpoint")} SET position = @next, hash = @nexthash, format = @format WHERE id = 1 AND position = @expected AND hash = @hash",
            ("@next", next.Position), ("@nexthash", Convert.ToHexStringLower(next.Hash)), ("@format", Format),
            ("@expected", expected.Position), ("@hash", Convert.ToHexStringLower(expected.Hash))))
        {
            if (await move.ExecuteNonQueryAsync(cancellationToken) != 1)
                return false;
        }

        if (batch.Sets.Count > 0)
        {
            await using var upsert = Command(connection, tx,
                $"INSERT INTO {Table("sets")} ({SetColumns}) VALUES ({string.Join(", ", SetColumns.Split(", ").Select(c => "@" + c))}) " +
                $"ON CONFLICT (set_id) DO UPDATE SET {string.Join(", ", SetColumns.Split(", ").Skip(1).Select(c => $"{c} = excluded.{c}"))}",
                [.. SetColumns.Split(", ").Select(c => ("@" + c, (object?)null))]);
            foreach (var row in batch.Sets.Values)
            {
                Bind(upsert, row);
                await upsert.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        if (batch.Requests.Count > 0)
        {
            await using var upsert = Command(connection, tx,
                $"INSERT INTO {Table("requests")} (request_id, kind, status, state, opened_at, changed_at) VALUES (@id, @kind, @status, @state, @opened, @changed) " +
                "ON CONFLICT (request_id) DO UPDATE SET kind = excluded.kind, status = excluded.status, state = excluded.state, changed_at = excluded.changed_at",
                ("@id", null), ("@kind", null), ("@status", null), ("@state", null), ("@opened", null), ("@changed", null));
            foreach (var r in batch.Requests.Values)
            {
                object[] values = [r.RequestId, r.Kind, r.Status, r.StateJson, r.OpenedAt, r.ChangedAt];
                for (var i = 0; i < values.Length; i++)
                    upsert.Parameters[i].Value = values[i];
                await upsert.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        foreach (var change in batch.References)
        {
            if (change.Kind != ReferenceChangeKind.Add)
            {
                await using var clear = Command(connection, tx, $"DELETE FROM {Table("refs")} WHERE set_id = @set", ("@set", change.SetId));
                await clear.ExecuteNonQueryAsync(cancellationToken);
            }

            if (change.Hashes.Count > 0)
                await InsertReferencesAsync(connection, tx, change.SetId, change.Hashes, cancellationToken);
        }

        await tx.CommitAsync(cancellationToken);
        return true;
    }

    public async Task ResetAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var sql in new[]
        {
            $"DELETE FROM {Table("refs")}", $"DELETE FROM {Table("sets")}", $"DELETE FROM {Table("requests")}", $"DELETE FROM {Table("snapshots")}",
            $"UPDATE {Table("checkpoint")} SET position = 0, hash = '{new string('0', 64)}', format = {Format} WHERE id = 1",
        })
        {
            await using var command = Command(connection, tx, sql);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await tx.CommitAsync(cancellationToken);
    }

    public async Task<Dictionary<string, SetRow>> ReadSetsAsync(IReadOnlyCollection<string> setIds, CancellationToken cancellationToken)
    {
        var rows = new Dictionary<string, SetRow>(StringComparer.Ordinal);
        if (setIds.Count == 0)
            return rows;
        await using var connection = await OpenAsync(cancellationToken);
        await using var read = Command(connection, null, $"SELECT {SetColumns} FROM {Table("sets")} WHERE set_id IN (SELECT value FROM {TextList("@ids")})", ("@ids", TextListValue(setIds)));
        await foreach (var row in ReadRowsAsync(read, cancellationToken))
            rows[row.SetId] = row;
        return rows;
    }

    public async Task<IReadOnlyList<RequestRow>> ListRequestsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var read = Command(connection, null, $"SELECT request_id, kind, status, state, opened_at, changed_at FROM {Table("requests")} ORDER BY opened_at");
        var rows = new List<RequestRow>();
        await using var r = await read.ExecuteReaderAsync(cancellationToken);
        while (await r.ReadAsync(cancellationToken))
            rows.Add(new RequestRow(r.GetString(0), r.GetInt32(1), r.GetInt32(2), r.GetString(3), r.GetInt64(4), r.GetInt64(5)));
        return rows;
    }

    protected const string ListingColumns = "set_id, source, kind, status, file_count, total_bytes, opened_time, sealed_time, retain_until, holds";

    public virtual async Task<IReadOnlyList<SetListingRow>> ListSetListingsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var read = Command(connection, null, $"SELECT {ListingColumns} FROM {Table("sets")} ORDER BY opened_at");
        var rows = new List<SetListingRow>();
        await using var r = await read.ExecuteReaderAsync(cancellationToken);
        while (await r.ReadAsync(cancellationToken))
        {
            rows.Add(new SetListingRow(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt32(3), r.GetInt64(4), r.GetInt64(5), Time(r.GetInt64(6)),
                r.IsDBNull(7) ? null : Time(r.GetInt64(7)), Time(r.GetInt64(8)), r.IsDBNull(9) ? null : r.GetString(9)));
        }

        return rows;
    }

    public async Task<IReadOnlyList<SealedSetRow>> ListSealedSetsAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var read = Command(connection, null,
            $"SELECT set_id, source, sealed_time, manifest_hash, holds IS NOT NULL FROM {Table("sets")} " +
            "WHERE status = @sealed AND ((sealed_time >= @from AND sealed_time <= @to) OR holds IS NOT NULL) ORDER BY sealed_time, set_id",
            ("@sealed", (int)Vault.Core.Sets.SetStatus.Sealed), ("@from", from.UtcTicks), ("@to", to.UtcTicks));
        var rows = new List<SealedSetRow>();
        await using var r = await read.ExecuteReaderAsync(cancellationToken);
        while (await r.ReadAsync(cancellationToken))
            rows.Add(new SealedSetRow(r.GetString(0), r.GetString(1), new DateTimeOffset(r.GetInt64(2), TimeSpan.Zero), r.GetString(3), r.GetBoolean(4)));
        return rows;
    }

    public async Task<ReadModelSnapshot?> ReadSnapshotAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var read = Command(connection, null, $"SELECT position, hash, content FROM {Table("snapshots")} WHERE name = @name", ("@name", name));
        await using var r = await read.ExecuteReaderAsync(cancellationToken);
        return await r.ReadAsync(cancellationToken)
            ? new ReadModelSnapshot(r.GetInt64(0), Convert.FromHexString(r.GetString(1)), r.GetString(2))
            : null;
    }

    public async Task WriteSnapshotAsync(string name, ReadModelSnapshot snapshot, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var write = Command(connection, null,
            $"INSERT INTO {Table("snapshots")} (name, position, hash, content) VALUES (@name, @position, @hash, @content) " +
            "ON CONFLICT (name) DO UPDATE SET position = excluded.position, hash = excluded.hash, content = excluded.content",
            ("@name", name), ("@position", snapshot.Position), ("@hash", Convert.ToHexStringLower(snapshot.Hash)), ("@content", snapshot.Content));
        await write.ExecuteNonQueryAsync(cancellationToken);
    }

    public virtual async Task<IReadOnlyList<SetRow>> ListSetsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var read = Command(connection, null, $"SELECT {SetColumns} FROM {Table("sets")} ORDER BY opened_at");
        var rows = new List<SetRow>();
        await foreach (var row in ReadRowsAsync(read, cancellationToken))
            rows.Add(row);
        return rows;
    }

    public async Task<IReadOnlyList<string>> ReferencedOnlyByAsync(IReadOnlyCollection<string> setIds, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var read = Command(connection, null,
            $"SELECT DISTINCT r.hash FROM {Table("refs")} r WHERE r.set_id IN (SELECT value FROM {TextList("@ids")}) " +
            $"AND NOT EXISTS (SELECT 1 FROM {Table("refs")} o WHERE o.hash = r.hash AND o.set_id NOT IN (SELECT value FROM {TextList("@ids2")}))",
            ("@ids", TextListValue(setIds)), ("@ids2", TextListValue(setIds)));
        return [.. (await ReadStringsAsync(read, cancellationToken)).Order(StringComparer.Ordinal)]; // ordinal, whatever the database's collation
    }

    public async Task<HashSet<string>> StillReferencedAsync(IReadOnlyCollection<string> hashes, CancellationToken cancellationToken)
    {
        if (hashes.Count == 0)
            return new HashSet<string>(StringComparer.Ordinal);
        await using var connection = await OpenAsync(cancellationToken);
        await using var read = Command(connection, null,
            $"SELECT DISTINCT hash FROM {Table("refs")} WHERE hash IN (SELECT value FROM {TextList("@hashes")})", ("@hashes", TextListValue(hashes)));
        return [.. await ReadStringsAsync(read, cancellationToken)];
    }

    public async Task<IReadOnlyList<(string SetId, string Hash)>> ListReferencesAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var read = Command(connection, null, $"SELECT set_id, hash FROM {Table("refs")}");
        var references = new List<(string, string)>();
        await using var reader = await read.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            references.Add((reader.GetString(0), reader.GetString(1)));
        return [.. references.OrderBy(r => r.Item1, StringComparer.Ordinal).ThenBy(r => r.Item2, StringComparer.Ordinal)];
    }

    public async Task<(long References, long Segments)> CountReferencesAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var read = Command(connection, null, $"SELECT count(*), count(DISTINCT hash) FROM {Table("refs")}");
        await using var reader = await read.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    private static async Task<List<string>> ReadStringsAsync(DbCommand command, CancellationToken ct)
    {
        var values = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            values.Add(reader.GetString(0));
        return values;
    }

    private static async IAsyncEnumerable<SetRow> ReadRowsAsync(DbCommand command, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await using var r = await command.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            yield return new SetRow(
                r.GetString(0), r.GetInt32(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), Time(r.GetInt64(6)),
                r.IsDBNull(7) ? null : r.GetString(7), r.GetInt64(8), r.GetInt64(9), r.GetInt64(10), r.GetInt64(11),
                r.IsDBNull(12) ? null : Time(r.GetInt64(12)), r.IsDBNull(13) ? null : Time(r.GetInt64(13)), Time(r.GetInt64(14)),
                r.IsDBNull(15) ? null : r.GetString(15), r.IsDBNull(16) ? null : r.GetString(16),
                r.GetInt64(17), r.GetInt64(18), r.GetInt64(19), r.GetInt64(20));
        }
    }

    protected static DateTimeOffset Time(long ticks) => new(ticks, TimeSpan.Zero);

    private static void Bind(DbCommand c, SetRow r)
    {
        object?[] values =
        [
            r.SetId, r.Status, r.Source, r.Name, r.Kind, r.LabelsJson, r.OpenedTime.UtcTicks, r.ManifestHash, r.ManifestLength, r.SegmentCount,
            r.FileCount, r.TotalBytes, r.SealedRetainUntil?.UtcTicks, r.SealedTime?.UtcTicks, r.RetainUntil.UtcTicks, r.HoldsJson, r.DeletedBy,
            r.SegmentsRecorded, r.StoredBytes, r.OpenedAt, r.ChangedAt,
        ];
        for (var i = 0; i < values.Length; i++)
            c.Parameters[i].Value = values[i] ?? DBNull.Value;
    }

    protected static DbCommand Command(DbConnection connection, DbTransaction? tx, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var p = command.CreateParameter();
            p.ParameterName = name;
            p.Value = value ?? DBNull.Value;
            command.Parameters.Add(p);
        }

        return command;
    }

    /// <summary>The tables, for a backend's DDL (types are the common ones both engines read).</summary>
    protected string CreateTables(string textType, string bigintType) => $"""
        CREATE TABLE IF NOT EXISTS {Table("checkpoint")} (id integer PRIMARY KEY CHECK (id = 1), position {bigintType} NOT NULL, hash {textType} NOT NULL, format integer NOT NULL);
        INSERT INTO {Table("checkpoint")} (id, position, hash, format) VALUES (1, 0, '{new string('0', 64)}', {Format}) ON CONFLICT DO NOTHING;
        CREATE TABLE IF NOT EXISTS {Table("sets")} (
            set_id {textType} PRIMARY KEY, status integer NOT NULL, source {textType} NOT NULL, name {textType} NOT NULL, kind {textType} NOT NULL,
            labels {textType} NOT NULL, opened_time {bigintType} NOT NULL, manifest_hash {textType}, manifest_length {bigintType} NOT NULL,
            segment_count {bigintType} NOT NULL, file_count {bigintType} NOT NULL, total_bytes {bigintType} NOT NULL, sealed_retain_until {bigintType},
            sealed_time {bigintType}, retain_until {bigintType} NOT NULL, holds {textType}, deleted_by {textType},
            segments_recorded {bigintType} NOT NULL, stored_bytes {bigintType} NOT NULL, opened_at {bigintType} NOT NULL, changed_at {bigintType} NOT NULL);
        CREATE INDEX IF NOT EXISTS sets_opened_at ON {Table("sets")} (opened_at);
        CREATE INDEX IF NOT EXISTS sets_sealed_time ON {Table("sets")} (sealed_time);
        CREATE INDEX IF NOT EXISTS sets_listing ON {Table("sets")} (opened_at, set_id, source, kind, status, file_count, total_bytes, opened_time, sealed_time, retain_until, holds);
        CREATE TABLE IF NOT EXISTS {Table("refs")} (hash {textType} NOT NULL, set_id {textType} NOT NULL, PRIMARY KEY (hash, set_id));
        CREATE INDEX IF NOT EXISTS refs_set ON {Table("refs")} (set_id);
        CREATE TABLE IF NOT EXISTS {Table("requests")} (request_id {textType} PRIMARY KEY, kind integer NOT NULL, status integer NOT NULL,
            state {textType} NOT NULL, opened_at {bigintType} NOT NULL, changed_at {bigintType} NOT NULL);
        CREATE INDEX IF NOT EXISTS requests_opened_at ON {Table("requests")} (opened_at);
        CREATE TABLE IF NOT EXISTS {Table("snapshots")} (name {textType} PRIMARY KEY, position {bigintType} NOT NULL, hash {textType} NOT NULL, content {textType} NOT NULL);
        """;
}
