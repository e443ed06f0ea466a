using System.Diagnostics.Metrics;

namespace Vault.Storage.Log;

/// <summary>The event log's instruments (meter "Vault.Log"): how long an append waits until it is durable, and how many share a commit.</summary>
public static class LogMetrics
{
    public const string MeterName = "Vault.Log";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>From the moment an append is queued until its batch is committed (or refused), in seconds.</summary>
    public static readonly Histogram<double> AppendDuration = Meter.CreateHistogram<double>("vault.log.append.duration", "s",
        "Time from queueing an append to its durable commit.", tags: null,
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });

    /// <summary>Appends committed together in one transaction (group commit).</summary>
    public static readonly Histogram<int> Batches = Meter.CreateHistogram<int>("vault.log.batch.size", "{append}",
        "Appends committed in one transaction.", tags: null,
        advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512] });
}
