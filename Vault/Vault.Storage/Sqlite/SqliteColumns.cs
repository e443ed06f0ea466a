using System.Runtime.InteropServices;

namespace Vault.Storage.Sqlite;

/// <summary>
/// SQLite's column accessors called on a raw statement pointer, for the chain-only scan. The library is the one
/// SQLitePCLRaw already loaded (e_sqlite3). These calls only read the current row from memory SQLite holds, so they
/// skip the GC transition; the pointer must stay valid, which the caller ensures by holding the statement's handle.
/// </summary>
internal static unsafe partial class SqliteColumns
{
    private const string Library = "e_sqlite3";

    public static ReadOnlySpan<byte> Blob(IntPtr statement, int column)
    {
        var data = sqlite3_column_blob(statement, column);
        var length = sqlite3_column_bytes(statement, column);
        return data is null || length <= 0 ? ReadOnlySpan<byte>.Empty : new ReadOnlySpan<byte>(data, length);
    }

    public static long Int64(IntPtr statement, int column) => sqlite3_column_int64(statement, column);

    public static bool IsNull(IntPtr statement, int column) => sqlite3_column_type(statement, column) == 5; // SQLITE_NULL

    /// <summary>A TEXT column as a string; null for NULL.</summary>
    public static string? Text(IntPtr statement, int column) =>
        IsNull(statement, column) ? null : System.Text.Encoding.UTF8.GetString(Blob(statement, column));

    [LibraryImport(Library)]
    private static partial int sqlite3_column_type(IntPtr statement, int column);

    /// <summary>sqlite3_step on the raw pointer (with the GC transition: a step may read from disk).</summary>
    [LibraryImport(Library, EntryPoint = "sqlite3_step")]
    public static partial int Step(IntPtr statement);

    [LibraryImport(Library)]
    [SuppressGCTransition]
    private static partial byte* sqlite3_column_blob(IntPtr statement, int column);

    [LibraryImport(Library)]
    [SuppressGCTransition]
    private static partial int sqlite3_column_bytes(IntPtr statement, int column);

    [LibraryImport(Library)]
    [SuppressGCTransition]
    private static partial long sqlite3_column_int64(IntPtr statement, int column);
}
