using Ingest.Client;
using Ingest.Service;
using Microsoft.Data.Sqlite;
using Vault.Core.Governance;
using Vault.Core.Log;
using Vault.Core.Vaults;
using Vault.Storage;
using Vault.Storage.Log;
using Vault.Storage.Segments;
using Vault.Storage.Sqlite;

namespace Ingest.Service.Tests;

/// <summary>A vault on disk (SQLite log with a genesis, file segment store) with an ingest service and a producer on one bus.</summary>
public sealed class TestVault : IAsyncDisposable
{
    private IngestHost? _serviceHost;
    private IngestHost? _producerHost;

    private TestVault(string directory, IEventLog log, FileSegmentStore store)
    {
        Directory = directory;
        Log = log;
        Store = store;
    }

    public string Directory { get; }
    public IEventLog Log { get; }
    public FileSegmentStore Store { get; }
    public IngestClient Client => _producerHost!.Client!;

    public string Sub(string name) => Path.Combine(Directory, name);

    /// <param name="amqp">null: in-memory transport; else the broker, with service and producer on separate connections.</param>
    /// <param name="serviceAmqp">The service's own address (another account), when it is not <paramref name="amqp"/>.</param>
    /// <param name="producerName">The producer's name (its reply queue vault.reply.NAME), for an account made for that name.</param>
    /// <param name="postgres">The log in a fresh schema of the test PostgreSQL (ops/services.sh) instead of SQLite.</param>
    /// <param name="direct">With no broker: messages straight to the handler (DirectSender, as `vault push` does) instead of the in-memory bus.</param>
    public static async Task<TestVault> StartAsync(string? amqp = null, string? serviceAmqp = null, string? producerName = null, bool postgres = false, string queueType = "classic", bool direct = false)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("vault-ingest-").FullName;
        ILogBackend backend = postgres
            ? await Vault.Storage.Postgres.PostgresLogBackend.OpenAsync(
                Environment.GetEnvironmentVariable("VAULT_TEST_PG") is { Length: > 0 } pg ? pg : throw new InvalidOperationException("VAULT_TEST_PG is not set: run the tests with ops/test.sh (README)."),
                "t_" + Guid.NewGuid().ToString("N")[..16], create: true)
            : await SqliteLogBackend.OpenAsync(Path.Combine(directory, "log.db"), create: true);
        var log = new GroupCommitEventLog(backend);
        var approvers = Enumerable.Range(0, 2).Select(i => new Approver($"a{i}", Ed25519.CreateKeyPair().PublicKey)).ToArray();
        var genesis = new VaultCreated("test-vault", 1, DateTimeOffset.UnixEpoch, GovernanceDocument.From(new GovernanceRules(approvers, 2)));
        await log.AppendAsync(VaultStreams.Vault, ExpectedVersion.NoStream, [genesis.ToEventData("test")]);
        var vault = new TestVault(directory, log, new FileSegmentStore(Path.Combine(directory, "segments")));
        var producer = producerName ?? "test-" + Guid.NewGuid().ToString("N")[..8];
        if (amqp is null)
        {
            vault._producerHost = vault._serviceHost = await IngestHost.StartAsync(new IngestHostOptions { Vault = (log, vault.Store), Producer = producer, Direct = direct });
        }
        else
        {
            vault._serviceOptions = new IngestHostOptions { Amqp = serviceAmqp ?? amqp, Vault = (log, vault.Store), QueueType = queueType };
            vault._serviceHost = await IngestHost.StartAsync(vault._serviceOptions);
            vault._producerHost = await IngestHost.StartAsync(new IngestHostOptions { Amqp = amqp, Producer = producer });
        }

        return vault;
    }

    private IngestHostOptions? _serviceOptions;

    /// <summary>Stops the ingest service (its queues stay on the broker, consumed by no one) until <see cref="StartServiceAsync"/>.</summary>
    public async Task StopServiceAsync()
    {
        if (_serviceOptions is null || _serviceHost is null)
            throw new InvalidOperationException("Only a vault served through a broker has a service to stop.");
        await _serviceHost.DisposeAsync();
        _serviceHost = null;
    }

    public async Task StartServiceAsync() =>
        _serviceHost = await IngestHost.StartAsync(_serviceOptions ?? throw new InvalidOperationException("Only a vault served through a broker has a service to start."));

    public Pusher Pusher() => new(Client, TimeProvider.System);

    public async ValueTask DisposeAsync()
    {
        if (_producerHost is not null)
            await _producerHost.DisposeAsync();
        if (_serviceHost is not null && !ReferenceEquals(_serviceHost, _producerHost))
            await _serviceHost.DisposeAsync();
        await Log.DisposeAsync();
        Vault.Storage.Sqlite.SqliteLogBackend.ReleasePools(System.IO.Path.Combine(Directory, "log.db"));
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "*", SearchOption.AllDirectories))
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
