using System.Security.Cryptography;
using System.Text;
using Npgsql;
using Vault.Storage.Leadership;

namespace Vault.Storage.Postgres;

/// <summary>
/// A lease held as a session-level PostgreSQL advisory lock on a connection kept open for it: the server releases the
/// lock the moment that session ends (the holder stopped, was killed, or lost the network), so another instance takes
/// over on its next try. Each try while held checks the session is still alive; a broken one means the lease is lost.
/// </summary>
public sealed class PostgresLeaderLease(NpgsqlDataSource dataSource, string schema, string name) : ILeaderLease
{
    private readonly long _key = BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes($"vault-lease:{schema}:{name}")), 0);
    private NpgsqlConnection? _session;

    public string Describe => $"PostgreSQL advisory lock ({schema}, {name})";

    public async Task<bool> TryHoldAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (_session is not null)
            {
                await using var alive = new NpgsqlCommand("SELECT 1", _session);
                await alive.ExecuteScalarAsync(cancellationToken);
                return true;
            }

            var session = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var take = new NpgsqlCommand("SELECT pg_try_advisory_lock($1)", session) { Parameters = { new() { Value = _key } } };
            if ((bool)(await take.ExecuteScalarAsync(cancellationToken))!)
            {
                _session = session;
                return true;
            }

            await session.DisposeAsync();
            return false;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            // The session broke (or never opened): whatever we held, the server has released it.
            await DisposeAsync();
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_session is { } session)
        {
            _session = null;
            try
            {
                await session.DisposeAsync();
            }
            catch (NpgsqlException)
            {
                // already gone; the lock went with it
            }
        }
    }
}
