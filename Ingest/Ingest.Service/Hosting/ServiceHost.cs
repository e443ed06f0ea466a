using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Ingest.Service.Hosting;

/// <summary>
/// 'vault serve' on the .NET Generic Host: the ingest consumers and the scheduled work as hosted services, logs through
/// ILogger (JSON lines by default, MassTransit's own included), SIGTERM and Ctrl-C drain before exit, and, when
/// <see cref="ServiceSettings.Listen"/> is set, Kestrel serving /health (every check), /health/live and /metrics
/// (OpenTelemetry, Prometheus text format). docs/operations.md.
/// </summary>
public static class ServiceHost
{
    /// <summary>The meters /metrics exports.</summary>
    public static readonly string[] Meters = [IngestMetrics.MeterName, Vault.Storage.Log.LogMetrics.MeterName, ScheduledWork.MeterName];

    public static IHost Build(ServiceSettings settings, IConfiguration configuration)
    {
        IHostApplicationBuilder builder = settings.Listen is null
            ? Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ContentRootPath = AppContext.BaseDirectory })
            : WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory, ApplicationName = "vault" });
        builder.Configuration.AddConfiguration(configuration);

        builder.Logging.ClearProviders();
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        if (settings.LogFormat == "text")
            builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.UseUtcTimestamp = true; o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ "; });
        else
            builder.Logging.AddJsonConsole(o => { o.UseUtcTimestamp = true; o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ"; });
        builder.Services.AddSystemd(); // notify and stop under systemd (Type=notify); nothing elsewhere
        // Logs go to standard error, whatever systemd support chose: standard output stays free, and the format is ours.
        builder.Services.Configure<ConsoleLoggerOptions>(o =>
        {
            o.LogToStandardErrorThreshold = LogLevel.Trace;
            o.FormatterName = settings.LogFormat == "text" ? ConsoleFormatterNames.Simple : ConsoleFormatterNames.Json;
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = settings.ShutdownTimeout);
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);

        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton<IngestBusService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<IngestBusService>());
        builder.Services.AddSingleton<ScheduledWork>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ScheduledWork>());
        builder.Services.AddSingleton<ReadModelTailer>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ReadModelTailer>());

        if (builder is not WebApplicationBuilder web)
            return ((HostApplicationBuilder)builder).Build();

        web.WebHost.UseUrls(settings.Listen!);
        var timeout = TimeSpan.FromSeconds(3);
        web.Services.AddHealthChecks()
            .AddCheck<LogHealthCheck>("log", timeout: timeout)
            .AddCheck<BrokerHealthCheck>("broker", timeout: timeout)
            .AddCheck<SegmentStoreHealthCheck>("segments", timeout: timeout)
            .AddCheck<ReadModelHealthCheck>("read-models", timeout: timeout);
        web.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("vault-serve", serviceInstanceId: settings.Instance).AddAttributes([new("vault.id", settings.VaultId)]))
            .WithMetrics(m => m.AddMeter(Meters).AddPrometheusExporter());
        var app = web.Build();
        ScheduledWork.Observe(() => app.Services.GetRequiredService<ScheduledWork>().Leading);
        app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = WriteHealthAsync });
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteHealthAsync });
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.Lifetime.ApplicationStarted.Register(() => app.Logger.LogInformation("serving /health, /health/live and /metrics at {Listen}", settings.Listen));
        return app;
    }

    /// <summary>One JSON document: the overall status and each check's status and description.</summary>
    private static Task WriteHealthAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString().ToLowerInvariant(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new
            {
                status = e.Value.Status.ToString().ToLowerInvariant(),
                description = e.Value.Description,
                seconds = Math.Round(e.Value.Duration.TotalSeconds, 3),
            }),
        }));
    }
}
