using System.Diagnostics.Metrics;

namespace Vault.Storage.Log;

/// <summary>The event log's instruments (meter "Vault.Log"): how long an append waits until it is durable, and how many share a commit.</summary>
public static class LogMetrics
{
    public const string MeterName = "Vault.Log";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>From the moment an append is queued until its batch is committed (or refused), in seconds.</summary>
    public static readonly Histogram<double> AppendDuration = Meter.CreateHistogram<double>("vault.log.append.duration", "s",
        "Time from queueing an append to its durable commit.");

    /// <summary>Appends committed together in one transaction (group commit).</summary>
    public static readonly Histogram<int> Batches = Meter.CreateHistogram<int>("vault.log.batch.size", "{append}",
        "Appends committed in one transaction.");
}
