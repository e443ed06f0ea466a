using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Vault.Services.ReadModels;

namespace Ingest.Service.Hosting;

/// <summary>
/// Keeps the read models up to the log's head while the service runs: a catch-up every <see cref="ServiceSettings.ReadModelsEvery"/>
/// (the head is read first, so an idle vault costs one small query). Every instance runs one; their commits move the
/// checkpoint only from where they started, so two never apply a record twice and the second simply finds nothing to do.
/// </summary>
public sealed class ReadModelTailer(ServiceSettings settings, ILoggerFactory logging) : BackgroundService
{
    private static readonly Meter Meter = new(ScheduledWork.MeterName);
    private static readonly Histogram<double> Lag = Meter.CreateHistogram<double>("vault.readmodels.lag", "s",
        "From a record's commit to the log to its commit to the read models (the oldest record of each catch-up).", tags: null,
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60] });
    private static readonly Counter<long> Applied = Meter.CreateCounter<long>("vault.readmodels.applied", "{record}", "Log records folded into the read models.");
    private readonly ILogger _log = logging.CreateLogger("Vault.ReadModels");
    private long _behind;
    private long _awaiting, _coolingOff, _due;
    private long _requestsCounted, _requestsCountedAt = -1;
    private long _lastSuccess;
    private string? _failure;

    /// <summary>Records the read models were behind the head at the last look.</summary>
    public long Behind => Interlocked.Read(ref _behind);

    public (HealthStatus Status, string Description) Health()
    {
        if (settings.ReadModelsEvery is null)
            return (HealthStatus.Healthy, "read models not kept by this instance");
        var since = settings.Clock.GetElapsedTime(Interlocked.Read(ref _lastSuccess));
        if (Volatile.Read(ref _failure) is { } failure)
            return (HealthStatus.Unhealthy, $"the read models cannot be brought up to date: {failure}");
        return Interlocked.Read(ref _lastSuccess) == 0 || since > TimeSpan.FromSeconds(30)
            ? (HealthStatus.Degraded, "the read models have not caught up yet")
            : (HealthStatus.Healthy, $"read models {Behind} records behind the head");
    }

    /// <summary>Requests not yet executed, vetoed or expired, by stage (the gauge vault_requests_open).</summary>
    public (long AwaitingApproval, long CoolingOff, long Due) OpenRequests => (Interlocked.Read(ref _awaiting), Interlocked.Read(ref _coolingOff), Interlocked.Read(ref _due));

    private async Task CountRequestsAsync(Vault.Storage.ReadModels.IReadModelStore store, CancellationToken ct)
    {
        long awaiting = 0, cooling = 0, due = 0;
        var now = settings.Clock.GetUtcNow();
        foreach (var row in await store.ListRequestsAsync(ct))
        {
            switch ((Vault.Core.Governance.DeletionStatus)row.Status)
            {
                case Vault.Core.Governance.DeletionStatus.Pending:
                    awaiting++;
                    break;
                case Vault.Core.Governance.DeletionStatus.QuorumReached:
                    var state = System.Text.Json.JsonSerializer.Deserialize<Vault.Core.Governance.DeletionRequestState>(row.StateJson, Vault.Services.EventCodec.Json);
                    if (state?.ExecutableAfter is { } after && after > now)
                        cooling++;
                    else
                        due++;
                    break;
            }
        }

        Interlocked.Exchange(ref _awaiting, awaiting);
        Interlocked.Exchange(ref _coolingOff, cooling);
        Interlocked.Exchange(ref _due, due);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (settings.ReadModelsEvery is not { } period)
            return;
        Meter.CreateObservableGauge("vault.readmodels.behind", () => Behind, "{record}", "Log records not yet in the read models.");
        Meter.CreateObservableGauge("vault.requests.open", () => new[]
        {
            new Measurement<long>(Interlocked.Read(ref _awaiting), new KeyValuePair<string, object?>("stage", "awaiting-approval")),
            new Measurement<long>(Interlocked.Read(ref _coolingOff), new KeyValuePair<string, object?>("stage", "cooling-off")),
            new Measurement<long>(Interlocked.Read(ref _due), new KeyValuePair<string, object?>("stage", "due")),
        }, "{request}", "Protected requests not yet executed, vetoed or expired, from the read models: awaiting approval, approved and cooling off, due (may execute now; the scheduled work executes them).");
        ReadModelProjector? projector = null;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    projector ??= await ReadModelAccess.OpenAsync(settings.Log, settings.Store, stoppingToken);
                    if (projector is null)
                        return;
                    var caught = await projector.CatchUpAsync(stoppingToken);
                    Interlocked.Exchange(ref _behind, Math.Max(0, (await settings.Log.ReadHeadAsync(stoppingToken)).Position - caught.Checkpoint.Position));
                    if (caught.Applied > 0)
                    {
                        Applied.Add(caught.Applied);
                        Lag.Record((settings.Clock.GetUtcNow() - caught.OldestRecordedAt!.Value).TotalSeconds);
                        if (caught.Rebuilt)
                            _log.LogWarning("read models: rebuilt from the first record ({Applied} records): the log was not the one they were folded from", caught.Applied);
                    }

                    // Counted again when the read models moved (whichever instance folded the records), and every 10 s:
                    // requests move from cooling off to due with time, not with records.
                    if (caught.Checkpoint.Position != _requestsCountedAt || settings.Clock.GetElapsedTime(_requestsCounted) > TimeSpan.FromSeconds(10))
                    {
                        await CountRequestsAsync(projector.Store, stoppingToken);
                        (_requestsCounted, _requestsCountedAt) = (settings.Clock.GetTimestamp(), caught.Checkpoint.Position);
                    }

                    Interlocked.Exchange(ref _lastSuccess, settings.Clock.GetTimestamp());
                    if (Interlocked.Exchange(ref _failure, null) is not null)
                        _log.LogInformation("read models: up to date again at position {Position}", caught.Checkpoint.Position);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    if (Interlocked.Exchange(ref _failure, ex.Message) is null)
                        _log.LogError("read models: catch-up failed, retrying every {Period}: {Reason}", period, ex.Message);
                }

                await Task.Delay(period, settings.Clock, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            if (projector is not null)
                await projector.Store.DisposeAsync();
        }
    }
}

/// <summary>The read models keep up with the log (<see cref="ReadModelTailer"/>).</summary>
public sealed class ReadModelHealthCheck(ReadModelTailer tailer) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var (status, description) = tailer.Health();
        return Task.FromResult(new HealthCheckResult(status, description, data: new Dictionary<string, object> { ["behind"] = tailer.Behind }));
    }
}
