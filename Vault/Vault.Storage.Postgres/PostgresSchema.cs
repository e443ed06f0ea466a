using System.Text.RegularExpressions;
using Vault.Core.Errors;

namespace Vault.Storage.Postgres;

/// <summary>
/// The PostgreSQL log's schema, version 1. Created by the schema owner (docs/postgres.md); the service role
/// is granted USAGE, SELECT and INSERT only, and triggers refuse UPDATE, DELETE and TRUNCATE even to the owner.
/// </summary>
public static partial class PostgresSchema
{
    public const string DefaultName = "vault";

    public static string Validate(string schema)
    {
        if (!SchemaName().IsMatch(schema))
            throw new VaultConfigurationException($"'{schema}' is not a usable schema name: use 1 to 63 lower-case letters, digits and underscores, starting with a letter or underscore.");
        return schema;
    }

    public static string Create(string schema, string? grantTo)
    {
        Validate(schema);
        var grant = grantTo is null ? "" : $"""
            GRANT USAGE ON SCHEMA {schema} TO {QuoteRole(grantTo)};
            GRANT SELECT, INSERT ON {schema}.events TO {QuoteRole(grantTo)};
            GRANT ALL ON SCHEMA {schema}_read TO {QuoteRole(grantTo)};
            """;
        return $"""
            CREATE SCHEMA IF NOT EXISTS {schema};
            CREATE SCHEMA IF NOT EXISTS {schema}_read;
            COMMENT ON SCHEMA {schema}_read IS 'vault read models: derived from {schema}.events, rebuilt at will (docs/read-models.md)';
            CREATE TABLE IF NOT EXISTS {schema}.events (
                position       bigint      PRIMARY KEY CHECK (position > 0),
                stream_id      text        NOT NULL,
                stream_version bigint      NOT NULL CHECK (stream_version >= 0),
                event_type     text        NOT NULL,
                payload        bytea       NOT NULL,
                metadata       bytea       NOT NULL,
                recorded_at    timestamptz NOT NULL,
                prev_hash      bytea       NOT NULL CHECK (octet_length(prev_hash) = 32),
                hash           bytea       NOT NULL CHECK (octet_length(hash) = 32),
                UNIQUE (stream_id, stream_version)
            );
            COMMENT ON TABLE {schema}.events IS 'vault-log v1: append-only, hash-chained (docs/log-format.md)';
            REVOKE ALL ON {schema}.events FROM PUBLIC;
            CREATE OR REPLACE FUNCTION {schema}.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'the vault log is append-only: % is refused', TG_OP USING ERRCODE = 'insufficient_privilege';
            END $$;
            CREATE OR REPLACE TRIGGER events_no_update_delete BEFORE UPDATE OR DELETE ON {schema}.events
                FOR EACH ROW EXECUTE FUNCTION {schema}.refuse_change();
            CREATE OR REPLACE TRIGGER events_no_truncate BEFORE TRUNCATE ON {schema}.events
                FOR EACH STATEMENT EXECUTE FUNCTION {schema}.refuse_change();
            {grant}
            """;
    }

    public static string QuoteRole(string role) => "\"" + role.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex SchemaName();
}
