namespace Vault.Storage.Sqlite;

/// <summary>The SQLite log's schema, version 1. The triggers make the table append-only for anyone using SQLite normally.</summary>
internal static class SqliteSchema
{
    /// <summary>PRAGMA application_id of a vault log: the ASCII bytes 'VLOG'.</summary>
    public const int ApplicationId = 0x564C4F47;
    public const int Version = 1;

    public const string Create = """
        CREATE TABLE events (
            position       INTEGER PRIMARY KEY CHECK (position > 0),
            stream_id      TEXT    NOT NULL,
            stream_version INTEGER NOT NULL CHECK (stream_version >= 0),
            event_type     TEXT    NOT NULL,
            payload        BLOB    NOT NULL,
            metadata       BLOB    NOT NULL,
            recorded_at_us INTEGER NOT NULL,
            prev_hash      BLOB    NOT NULL CHECK (length(prev_hash) = 32),
            hash           BLOB    NOT NULL CHECK (length(hash) = 32),
            UNIQUE (stream_id, stream_version)
        );
        CREATE TRIGGER events_no_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'the vault log is append-only: UPDATE is refused'); END;
        CREATE TRIGGER events_no_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'the vault log is append-only: DELETE is refused'); END;
        PRAGMA application_id = 1447841607;
        PRAGMA user_version = 1;
        """;

    public const string Columns = "position, stream_id, stream_version, event_type, payload, metadata, recorded_at_us, prev_hash, hash";
}
