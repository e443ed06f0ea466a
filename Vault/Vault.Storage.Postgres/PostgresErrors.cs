using System.Net.Sockets;
using Npgsql;
using Vault.Core.Errors;

namespace Vault.Storage.Postgres;

internal static class PostgresErrors
{
    public static VaultException Map(Exception ex, string where) => ex switch
    {
        VaultException v => v,
        PostgresException { SqlState: PostgresErrorCodes.InsufficientPrivilege } pg => new StorageRefusedException(
            $"PostgreSQL at {where} refused: {pg.MessageText}.", pg),
        PostgresException { SqlState: PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.InvalidSchemaName } pg => new NotAVaultException(
            $"There is no vault log at {where} ({pg.MessageText}). Create it with 'vault init --postgres ...' as the schema owner (docs/postgres.md).", pg),
        PostgresException { SqlState: PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification } pg => new StorageRefusedException(
            $"PostgreSQL at {where} did not accept the credentials: {pg.MessageText}.", pg),
        PostgresException { SqlState: PostgresErrorCodes.InvalidCatalogName } pg => new VaultConfigurationException(
            $"PostgreSQL at {where}: {pg.MessageText}. Check the Database= part of the connection string.", pg),
        PostgresException pg => new StorageUnavailableException($"PostgreSQL at {where} failed: {pg.MessageText} (SQLSTATE {pg.SqlState}).", pg),
        NpgsqlException { InnerException: SocketException or TimeoutException or IOException } n => new StorageUnavailableException(
            $"PostgreSQL at {where} cannot be reached ({n.InnerException!.Message}). Check that the server is running and the host and port are right.", n),
        NpgsqlException n => new StorageUnavailableException($"PostgreSQL at {where} cannot be used: {n.Message}", n),
        SocketException or TimeoutException => new StorageUnavailableException($"PostgreSQL at {where} cannot be reached ({ex.Message}).", ex),
        _ => new StorageUnavailableException($"PostgreSQL at {where} failed: {ex.Message}", ex),
    };
}
