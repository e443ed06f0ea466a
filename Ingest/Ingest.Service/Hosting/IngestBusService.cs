using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ingest.Service.Hosting;

/// <summary>
/// The ingest consumers as a hosted service: started with the host (a refused permission or an unreachable broker
/// stops the host with a clear error), stopped with it, draining the messages in hand first (SIGTERM or Ctrl-C).
/// </summary>
public sealed class IngestBusService(ServiceSettings settings, ILoggerFactory logging, IHostApplicationLifetime lifetime) : IHostedService
{
    private readonly ILogger _log = logging.CreateLogger("Vault.Serve");
    private IngestHost? _host;

    public (bool Healthy, string Description) CheckHealth() => _host?.CheckHealth() ?? (false, "the ingest bus is not running");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _host = await IngestHost.StartAsync(new IngestHostOptions
        {
            Amqp = settings.Amqp,
            Vault = (settings.Log, settings.Store),
            Concurrency = settings.Concurrency,
            QueueType = settings.QueueType,
            Clock = settings.Clock,
            Logging = logging,
        }, cancellationToken);
        _log.LogInformation("vault {VaultId}: ingest service consuming vault.ingest.* on {Broker} as instance {Instance}; SIGTERM or Ctrl-C stops it",
            settings.VaultId, new Uri(settings.Amqp).Host, settings.Instance);
        lifetime.ApplicationStopping.Register(() => _log.LogInformation("stopping: messages in hand finish first; unacknowledged ones are redelivered"));
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_host is { } host)
        {
            _host = null;
            await host.DisposeAsync();
            _log.LogInformation("ingest service stopped");
        }
    }
}
