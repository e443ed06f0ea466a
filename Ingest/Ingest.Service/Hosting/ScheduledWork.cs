using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Vault.Services;

namespace Ingest.Service.Hosting;

/// <summary>
/// The vault's schedule in the service: executes the requests a quorum approved once they may execute, records
/// expiries, finishes cut-short removals, signs checkpoints (DueRequests). With several instances on one vault, only
/// the holder of the lease runs it; the others try to take the lease on every period, so when the leader stops or
/// dies another takes over within one period. Every effect is still appended under the log's expected versions, so
/// even two leaders at once could not execute one request twice.
/// </summary>
public sealed class ScheduledWork(ServiceSettings settings, ILoggerFactory logging) : BackgroundService
{
    public const string MeterName = "Vault.Service";
    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> Outcomes = Meter.CreateCounter<long>("vault.schedule.outcomes", "{request}", "What the scheduled work did, by action.");
    private static readonly Counter<long> Failures = Meter.CreateCounter<long>("vault.schedule.failures", "{run}", "Scheduled runs that failed (retried at the next period).");

    private readonly ILogger _log = logging.CreateLogger("Vault.Schedule");
    private int _leading;

    /// <summary>1 while this instance leads the scheduled work.</summary>
    public bool Leading => Volatile.Read(ref _leading) == 1;

    public static void Observe(Func<bool> leading) =>
        Meter.CreateObservableGauge("vault.schedule.leader", () => leading() ? 1 : 0, "{instance}", "1 while this instance runs the scheduled work.");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (settings.ScheduleEvery is not { } period)
            return;
        var due = new DueRequests(settings.Log, settings.Store, settings.Clock) { Checkpoints = settings.Checkpoints };
        // A standby tries for the lease at least every 2 s, so a dead leader is replaced quickly whatever the period.
        var retry = period < TimeSpan.FromSeconds(2) ? period : TimeSpan.FromSeconds(2);
        var next = settings.Clock.GetUtcNow();
        while (!stoppingToken.IsCancellationRequested)
        {
            var lead = settings.Leadership is null || await settings.Leadership.TryHoldAsync(stoppingToken);
            if (lead != Leading)
            {
                Volatile.Write(ref _leading, lead ? 1 : 0);
                if (lead)
                    _log.LogInformation("scheduler: this instance ({Instance}) now leads the scheduled work ({Lease})", settings.Instance, settings.Leadership?.Describe ?? "alone");
                else
                    _log.LogWarning("scheduler: this instance ({Instance}) lost the lead; another instance runs the scheduled work", settings.Instance);
            }

            if (lead && settings.Clock.GetUtcNow() >= next)
            {
                next = settings.Clock.GetUtcNow() + period;
                await RunOnceAsync(due, stoppingToken);
            }

            try
            {
                await Task.Delay(lead ? Min(period, next - settings.Clock.GetUtcNow()) : retry, settings.Clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        if (settings.Leadership is not null)
            await settings.Leadership.DisposeAsync();
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => b < TimeSpan.Zero ? TimeSpan.Zero : a < b ? a : b;

    private async Task RunOnceAsync(DueRequests due, CancellationToken ct)
    {
        try
        {
            var outcomes = await due.RunOnceAsync(ct);
            if (settings.Checkpoints is { } c && await c.Checkpointer.MaybeAsync(c.EveryRecords, c.Every, ct) is { } checkpoint)
            {
                _log.LogInformation("scheduler: signed a checkpoint over records 1 to {Position}", checkpoint.Position);
                Outcomes.Add(1, new KeyValuePair<string, object?>("action", DueRequests.Checkpointed));
            }

            foreach (var o in outcomes)
            {
                Outcomes.Add(1, new KeyValuePair<string, object?>("action", o.Action));
                _log.LogInformation("scheduler: {Action} request {RequestId} ({Kind}), {SegmentsRemoved} segments removed, by instance {Instance}",
                    o.Action, o.RequestId, o.Kind, o.SegmentsRemoved, settings.Instance);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Failures.Add(1);
            _log.LogWarning("scheduler: {Problem} (retrying at the next run)", ex.Message);
        }
    }
}
