using Ingest.Client;
using Ingest.Contracts;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Vault.Storage;

namespace Ingest.Service;

/// <summary>What a host runs: the service for a vault (its log and segment store), a producer's client, or both (embedded mode).</summary>
public sealed record IngestHostOptions
{
    /// <summary>amqp://user:password@host:port/vhost, or null for the in-memory transport (embedded mode).</summary>
    public string? Amqp { get; init; }
    public (IEventLog Log, ISegmentStore Store)? Vault { get; init; }
    /// <summary>The producer's name: its reply queue is vault.reply.{Producer}.</summary>
    public string? Producer { get; init; }
    public int Concurrency { get; init; } = 8;
    public TimeSpan ReplyTimeout { get; init; } = TimeSpan.FromMinutes(2);
    public TimeProvider Clock { get; init; } = TimeProvider.System;
}

/// <summary>
/// A MassTransit bus for the ingest service and/or a producer. With no broker it uses the in-memory transport, so the
/// embedded mode sends every message through the same consumers, serializer and replies as RabbitMQ does.
/// </summary>
public sealed class IngestHost : IAsyncDisposable
{
    private readonly ServiceProvider _provider;
    private readonly IBusControl _bus;

    private IngestHost(ServiceProvider provider, IBusControl bus, IngestClient? client)
    {
        _provider = provider;
        _bus = bus;
        Client = client;
    }

    public IngestClient? Client { get; }

    public static async Task<IngestHost> StartAsync(IngestHostOptions options, CancellationToken cancellationToken = default)
    {
        var services = new ServiceCollection();
        var router = new ReplyRouter();
        services.AddSingleton(router);
        if (options.Vault is { } vault)
            services.AddSingleton(new IngestHandler(vault.Log, vault.Store, options.Clock));
        services.AddMassTransit(x =>
        {
            if (options.Vault is not null)
                x.AddIngestConsumers();
            if (options.Producer is not null)
                x.AddConsumer<ReplyConsumer>();
            if (options.Amqp is null)
                x.UsingInMemory((context, bus) => Configure(context, bus, options));
            else
                x.UsingRabbitMq((context, bus) =>
                {
                    bus.Host(new Uri(options.Amqp));
                    Configure(context, bus, options);
                });
        });

        var provider = services.BuildServiceProvider();
        var busControl = provider.GetRequiredService<IBusControl>();
        try
        {
            await busControl.StartAsync(cancellationToken);
        }
        catch
        {
            await provider.DisposeAsync();
            throw;
        }

        var client = options.Producer is null ? null
            : new IngestClient(busControl, router, IngestQueues.ReplyQueue(options.Producer), options.ReplyTimeout);
        return new IngestHost(provider, busControl, client);
    }

    public async ValueTask DisposeAsync()
    {
        await _bus.StopAsync(CancellationToken.None);
        await _provider.DisposeAsync();
    }

    private static void Configure(IBusRegistrationContext context, IBusFactoryConfigurator bus, IngestHostOptions options)
    {
        bus.UsePlainJson();
        if (options.Vault is not null)
            bus.ConfigureIngestEndpoints(context, options.Concurrency);
        if (options.Producer is not null)
            bus.ReceiveEndpoint(IngestQueues.ReplyQueue(options.Producer), e => e.ConfigureConsumer<ReplyConsumer>(context));
    }
}
