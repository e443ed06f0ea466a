using Microsoft.Data.Sqlite;
using Vault.Core.Errors;

namespace Vault.Storage.Sqlite;

internal static class SqliteErrors
{
    private const int Constraint = 19;
    private const int Corrupt = 11;
    private const int NotADatabase = 26;
    private const int CantOpen = 14;
    private const int ReadOnly = 8;
    private const int Full = 13;

    public static VaultException Map(SqliteException ex, string path) => ex.SqliteErrorCode switch
    {
        Corrupt or NotADatabase => new StorageCorruptException(
            $"The log file {path} is damaged or is not a SQLite database ({ex.Message.TrimEnd('.')}). Restore it from a site copy; run 'vault log verify' on the copy first.", ex),
        CantOpen => new StorageUnavailableException($"The log file {path} cannot be opened ({ex.Message.TrimEnd('.')}). Check that the directory exists and is readable.", ex),
        ReadOnly => new StorageRefusedException($"The log file {path} is read-only here; appends need write access to it and its directory.", ex),
        Full => new StorageUnavailableException($"The disk holding {path} is full; nothing was appended. Free space and retry.", ex),
        Constraint => new StorageRefusedException($"The log refused the write: {ex.Message}", ex),
        _ => new StorageUnavailableException($"The log file {path} could not be used: {ex.Message}", ex),
    };
}
