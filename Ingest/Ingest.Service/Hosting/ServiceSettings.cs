using Vault.Services;
using Vault.Storage;
using Vault.Storage.Leadership;

namespace Ingest.Service.Hosting;

/// <summary>What 'vault serve' runs: one vault (opened by the caller), its broker, its schedule and its endpoints.</summary>
public sealed record ServiceSettings
{
    public required string VaultId { get; init; }
    public required IEventLog Log { get; init; }
    public required Vault.Storage.Segments.FileSegmentStore Store { get; init; }
    public required string Amqp { get; init; }
    public int Concurrency { get; init; } = 8;

    /// <summary>"classic" or "quorum": the type the ingest queues are declared with (<see cref="IngestHostOptions.QueueType"/>).</summary>
    public string QueueType { get; init; } = "classic";

    /// <summary>How often the scheduled work runs (or tries to lead); null: this instance never runs it.</summary>
    public TimeSpan? ScheduleEvery { get; init; }

    /// <summary>Signed checkpoints from the scheduled work, when the vault has its checkpoint key here.</summary>
    public (Checkpointer Checkpointer, long EveryRecords, TimeSpan Every)? Checkpoints { get; init; }

    /// <summary>Who may run the scheduled work; null: this instance runs it alone (no other instance shares the log).</summary>
    public ILeaderLease? Leadership { get; init; }

    /// <summary>http://HOST:PORT for /health and /metrics, or null for none.</summary>
    public string? Listen { get; init; }

    /// <summary>"json" (one object a line, for journald and collectors) or "text".</summary>
    public string LogFormat { get; init; } = "json";

    /// <summary>This instance's name in logs and metrics (default: host name and process id).</summary>
    public string Instance { get; init; } = $"{Environment.MachineName}:{Environment.ProcessId}";

    /// <summary>How long a stop waits for messages in hand before giving up on them (they are redelivered).</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>How often the read models are brought up to the log's head; null: not kept by this instance.</summary>
    public TimeSpan? ReadModelsEvery { get; init; } = TimeSpan.FromMilliseconds(250);
}
