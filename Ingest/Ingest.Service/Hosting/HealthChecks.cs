using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Ingest.Service.Hosting;

/// <summary>The event log answers: its head can be read (PostgreSQL reachable, SQLite file readable).</summary>
public sealed class LogHealthCheck(ServiceSettings settings) : IHealthCheck
{
    private string Where => (settings.Log as Vault.Storage.Log.GroupCommitEventLog)?.Describe ?? "the event log";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var head = await settings.Log.ReadHeadAsync(cancellationToken);
            return HealthCheckResult.Healthy($"{Where}: {head.Position} records",
                new Dictionary<string, object> { ["position"] = head.Position });
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"the event log at {Where} does not answer: {ex.Message}");
        }
    }
}

/// <summary>The broker: every ingest queue connected and consuming, as MassTransit reports it.</summary>
public sealed class BrokerHealthCheck(IngestBusService bus) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var (healthy, description) = bus.CheckHealth();
        return Task.FromResult(healthy ? HealthCheckResult.Healthy(description) : HealthCheckResult.Unhealthy($"the broker: {description}"));
    }
}

/// <summary>The segment store: its directory takes a write (a mount gone read-only or full is caught here), with the free space.</summary>
public sealed class SegmentStoreHealthCheck(ServiceSettings settings) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var root = settings.Store.Root;
        var probe = Path.Combine(root, $".health-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(root);
            await File.WriteAllBytesAsync(probe, [1], cancellationToken);
            File.Delete(probe);
            var free = new DriveInfo(root).AvailableFreeSpace;
            var data = new Dictionary<string, object> { ["freeBytes"] = free };
            return free < 1L << 30
                ? HealthCheckResult.Degraded($"the segment store at {root} has {free / (1 << 20)} MiB free", data: data)
                : HealthCheckResult.Healthy($"{root}: {free / (1L << 30)} GiB free", data);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return HealthCheckResult.Unhealthy($"the segment store at {root} cannot be written: {ex.Message}");
        }
    }
}
