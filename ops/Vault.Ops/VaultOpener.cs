using Vault.Core.Errors;
using Vault.Core.Log;
using Vault.Core.Vaults;
using Vault.Storage;
using Vault.Storage.Log;
using Vault.Storage.Postgres;
using Vault.Storage.Sqlite;

namespace Vault.Ops;

/// <summary>Opens an existing vault's log as its vault.json says, checking that the log's genesis is this vault's.</summary>
public static class VaultOpener
{
    public const string SqliteFile = "log.db";

    /// <summary>The vault's checkpoint signing key (raw Ed25519 seed, hex), readable by its owner only; the public half is in the genesis.</summary>
    public const string CheckpointKeyFile = "checkpoint.key";

    public static void WriteCheckpointKey(string directory, byte[] privateKey)
    {
        var path = Path.Combine(directory, CheckpointKeyFile);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var stream = new FileStream(path, options);
        stream.Write(System.Text.Encoding.ASCII.GetBytes(Convert.ToHexStringLower(privateKey) + "\n"));
        stream.Flush(flushToDisk: true);
    }

    /// <summary>The checkpoint key, or a sentence saying why checkpoints cannot be made.</summary>
    public static byte[] ReadCheckpointKey(string directory)
    {
        var path = Path.Combine(directory, CheckpointKeyFile);
        if (!File.Exists(path))
            throw new VaultConfigurationException($"{path} does not exist: this vault has no checkpoint key (vaults made before checkpoints existed have none), so no checkpoint can be signed.");
        try
        {
            return Convert.FromHexString(File.ReadAllText(path).Trim());
        }
        catch (FormatException ex)
        {
            throw new StorageCorruptException($"{path} is not a checkpoint key (64 hex digits).", ex);
        }
    }

    /// <summary>Where a vault keeps its segments: a directory beside its log.</summary>
    public static string SegmentsDirectory(string vaultDirectory) => Path.Combine(vaultDirectory, "segments");

    /// <param name="checkGenesis">false only for 'vault log verify', which judges the genesis record itself and must not depend on parsing it.</param>
    public static async Task<(VaultManifest Manifest, GroupCommitEventLog Log)> OpenAsync(string directory, string? postgres, TimeProvider clock, CancellationToken cancellationToken, bool checkGenesis = true)
    {
        var manifest = VaultManifest.Read(directory);
        var log = new GroupCommitEventLog(await OpenBackendAsync(directory, manifest.Log, postgres, create: false, null, cancellationToken), new GroupCommitOptions { Clock = clock });
        try
        {
            if (!checkGenesis)
                return (manifest, log);
            await using var records = log.ReadAllAsync(1, cancellationToken).GetAsyncEnumerator(cancellationToken);
            var genesis = await records.MoveNextAsync() ? records.Current : null;
            string? vaultId;
            try
            {
                vaultId = genesis is null ? null : VaultCreated.From(genesis)?.VaultId;
            }
            catch (System.Text.Json.JsonException)
            {
                vaultId = null;
            }

            if (vaultId != manifest.VaultId)
                throw new StorageCorruptException(
                    $"The log at {log.Describe} does not begin with the genesis of vault {manifest.VaultId}: it belongs to another vault, or its first record was changed. Check --postgres and the vault directory.");
            return (manifest, log);
        }
        catch
        {
            await log.DisposeAsync();
            throw;
        }
    }

    public static async Task<ILogBackend> OpenBackendAsync(string directory, LogLocation location, string? postgres, bool create, string? grantTo, CancellationToken cancellationToken) =>
        location.Backend switch
        {
            LogLocation.Sqlite => await SqliteLogBackend.OpenAsync(Path.Combine(directory, location.File ?? SqliteFile), create, cancellationToken),
            LogLocation.Postgres => await PostgresLogBackend.OpenAsync(
                postgres ?? throw new VaultConfigurationException($"This vault's log is in PostgreSQL (schema {location.Schema}): pass --postgres CONNECTION or set {GlobalOptions.PostgresVariable}."),
                location.Schema ?? PostgresSchema.DefaultName, create, grantTo, cancellationToken),
            _ => throw new StorageCorruptException($"vault.json names an unknown log backend '{location.Backend}'."),
        };

    public static string ShortHash(byte[] hash) => Convert.ToHexStringLower(hash)[..16];

    public static LogHead ParseHead(string value, string option)
    {
        var parts = value.Split(':');
        if (parts.Length != 2 || !long.TryParse(parts[0], out var position) || position < 0 || parts[1].Length != 64)
            throw new VaultConfigurationException($"{option} takes POSITION:HASH, the hash as 64 hex digits (as 'vault log tail' prints it); got '{value}'.");
        try
        {
            return new LogHead(position, Convert.FromHexString(parts[1]));
        }
        catch (FormatException ex)
        {
            throw new VaultConfigurationException($"{option}: '{parts[1]}' is not 64 hex digits.", ex);
        }
    }
}
