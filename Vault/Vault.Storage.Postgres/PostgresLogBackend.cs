using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Npgsql;
using NpgsqlTypes;
using Vault.Core.Errors;
using Vault.Core.Log;
using Vault.Storage.Log;

namespace Vault.Storage.Postgres;

/// <summary>
/// The PostgreSQL log. A batch takes a transaction-scoped advisory lock, so several service instances can append
/// to one log and the chain stays sequential; rows go in by binary COPY, which needs only INSERT.
/// </summary>
public sealed class PostgresLogBackend : ILogBackend, Vault.Storage.Leadership.ILeadershipSource, Vault.Storage.ReadModels.IReadModelSource
{
    private const string Columns = "position, stream_id, stream_version, event_type, payload, metadata, recorded_at, prev_hash, hash";
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _schema;
    private readonly long _lockKey;
    private readonly string _where;

    private PostgresLogBackend(NpgsqlDataSource dataSource, string schema, string where)
    {
        _dataSource = dataSource;
        _schema = schema;
        _where = where;
        _lockKey = BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes("vault-log:" + schema)), 0);
    }

    public string Describe => _where;

    public Vault.Storage.Leadership.ILeaderLease Lease(string name) => new PostgresLeaderLease(_dataSource, _schema, name);

    /// <summary>The read models, in the schema beside the log's (<see cref="PostgresReadModelStore"/>).</summary>
    public async Task<Vault.Storage.ReadModels.IReadModelStore> OpenReadModelsAsync(CancellationToken cancellationToken) =>
        await PostgresReadModelStore.OpenAsync(_dataSource, _schema, _where, cancellationToken);

    /// <summary>Opens the log in <paramref name="schema"/>; with <paramref name="create"/> creates the schema when it is missing (needs the owner's rights).</summary>
    public static async Task<PostgresLogBackend> OpenAsync(string connectionString, string schema, bool create, string? grantTo = null, CancellationToken cancellationToken = default)
    {
        PostgresSchema.Validate(schema);
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidCastException)
        {
            throw new VaultConfigurationException($"The PostgreSQL connection string is malformed ({ex.Message.TrimEnd('.')}). Use the form Host=HOST;Port=5432;Username=USER;Database=DB.", ex);
        }

        if (builder.Timeout == 15)
            builder.Timeout = 10;
        var where = $"{builder.Host ?? "localhost"}:{builder.Port}/{builder.Database ?? builder.Username} schema {schema}";
        var dataSource = NpgsqlDataSource.Create(builder);
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using (var check = new NpgsqlCommand($"SELECT to_regclass('{schema}.events') IS NOT NULL", connection))
            {
                var exists = (bool)(await check.ExecuteScalarAsync(cancellationToken))!;
                if (!exists && !create)
                    throw new NotAVaultException($"There is no vault log at {where}. Create it with 'vault init --postgres ...' as the schema owner (docs/postgres.md).");
                if (!exists)
                {
                    await using var tx = await connection.BeginTransactionAsync(cancellationToken);
                    await using var ddl = new NpgsqlCommand(PostgresSchema.Create(schema, grantTo), connection, tx);
                    await ddl.ExecuteNonQueryAsync(cancellationToken);
                    await tx.CommitAsync(cancellationToken);
                }
            }

            return new PostgresLogBackend(dataSource, schema, where);
        }
        catch (Exception ex)
        {
            await dataSource.DisposeAsync();
            throw PostgresErrors.Map(ex, where);
        }
    }

    public async Task<SealedBatch> CommitAsync(IReadOnlyList<AppendRequest> requests, TimeProvider clock, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            await using var tx = await connection.BeginTransactionAsync(cancellationToken);
            var streams = requests.Select(r => r.Stream.Value).Distinct(StringComparer.Ordinal).ToArray();
            await using var batch = new NpgsqlBatch(connection, tx)
            {
                BatchCommands =
                {
                    new NpgsqlBatchCommand("SELECT pg_advisory_xact_lock($1)") { Parameters = { new() { Value = _lockKey } } },
                    new NpgsqlBatchCommand($"SELECT position, hash FROM {_schema}.events ORDER BY position DESC LIMIT 1"),
                    new NpgsqlBatchCommand($"SELECT s.id, (SELECT max(stream_version) FROM {_schema}.events WHERE stream_id = s.id) FROM unnest($1::text[]) AS s(id)")
                    {
                        Parameters = { new() { Value = streams, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text } },
                    },
                },
            };

            var head = LogHead.Empty;
            var versions = new Dictionary<string, long>(StringComparer.Ordinal);
            await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
            {
                await reader.NextResultAsync(cancellationToken);
                if (await reader.ReadAsync(cancellationToken))
                    head = new LogHead(reader.GetInt64(0), reader.GetFieldValue<byte[]>(1));
                await reader.NextResultAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    if (!reader.IsDBNull(1))
                        versions[reader.GetString(0)] = reader.GetInt64(1);
                }
            }

            var sealedBatch = BatchSealer.Seal(head, requests, versions, clock.GetUtcNow());
            if (sealedBatch.Records.Count > 0)
            {
                await using (var import = await connection.BeginBinaryImportAsync($"COPY {_schema}.events ({Columns}) FROM STDIN (FORMAT BINARY)", cancellationToken))
                {
                    foreach (var r in sealedBatch.Records)
                    {
                        await import.StartRowAsync(cancellationToken);
                        await import.WriteAsync(r.Position, NpgsqlDbType.Bigint, cancellationToken);
                        await import.WriteAsync(r.StreamId, NpgsqlDbType.Text, cancellationToken);
                        await import.WriteAsync(r.StreamVersion, NpgsqlDbType.Bigint, cancellationToken);
                        await import.WriteAsync(r.EventType, NpgsqlDbType.Text, cancellationToken);
                        await import.WriteAsync(r.Payload, NpgsqlDbType.Bytea, cancellationToken);
                        await import.WriteAsync(r.Metadata, NpgsqlDbType.Bytea, cancellationToken);
                        await import.WriteAsync(r.RecordedAt.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
                        await import.WriteAsync(r.PreviousHash, NpgsqlDbType.Bytea, cancellationToken);
                        await import.WriteAsync(r.Hash, NpgsqlDbType.Bytea, cancellationToken);
                    }

                    await import.CompleteAsync(cancellationToken);
                }

                await tx.CommitAsync(cancellationToken);
            }

            return sealedBatch;
        }
        catch (Exception ex)
        {
            throw PostgresErrors.Map(ex, _where);
        }
    }

    public IAsyncEnumerable<EventRecord> ReadAllAsync(long fromPosition, CancellationToken cancellationToken) =>
        QueryAsync($"SELECT {Columns} FROM {_schema}.events WHERE position >= $1 ORDER BY position", [fromPosition], cancellationToken);

    public IAsyncEnumerable<EventRecord> ReadStreamAsync(string streamId, long fromVersion, CancellationToken cancellationToken) =>
        QueryAsync($"SELECT {Columns} FROM {_schema}.events WHERE stream_id = $1 AND stream_version >= $2 ORDER BY stream_version", [streamId, fromVersion], cancellationToken);

    public async Task<LogHead> ReadHeadAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var command = _dataSource.CreateCommand($"SELECT position, hash FROM {_schema}.events ORDER BY position DESC LIMIT 1");
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? new LogHead(reader.GetInt64(0), reader.GetFieldValue<byte[]>(1)) : LogHead.Empty;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw PostgresErrors.Map(ex, _where);
        }
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    private async IAsyncEnumerable<EventRecord> QueryAsync(string sql, object[] parameters, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        NpgsqlConnection? connection = null;
        NpgsqlCommand? command = null;
        NpgsqlDataReader reader;
        try
        {
            connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            command = new NpgsqlCommand(sql, connection);
            foreach (var p in parameters)
                command.Parameters.Add(new NpgsqlParameter { Value = p });
            reader = await command.ExecuteReaderAsync(cancellationToken);
        }
        catch (Exception ex)
        {
            if (command is not null)
                await command.DisposeAsync();
            if (connection is not null)
                await connection.DisposeAsync();
            if (ex is OperationCanceledException)
                throw;
            throw PostgresErrors.Map(ex, _where);
        }

        await using (connection)
        await using (command)
        await using (reader)
        {
            while (true)
            {
                EventRecord record;
                try
                {
                    if (!await reader.ReadAsync(cancellationToken))
                        break;
                    record = new EventRecord(
                        reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.GetString(3),
                        reader.GetFieldValue<byte[]>(4), reader.GetFieldValue<byte[]>(5),
                        new DateTimeOffset(reader.GetFieldValue<DateTime>(6), TimeSpan.Zero),
                        reader.GetFieldValue<byte[]>(7), reader.GetFieldValue<byte[]>(8));
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    throw PostgresErrors.Map(ex, _where);
                }

                yield return record;
            }
        }
    }
}
