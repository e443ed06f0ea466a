using Ingest.Client;
using Ingest.Contracts;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Vault.Core.Errors;
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

    /// <summary>
    /// With no broker, a vault and a producer in the same process: messages go straight to the handler
    /// (<see cref="DirectSender"/>) instead of through MassTransit's in-memory bus. What <c>vault push</c> uses.
    /// </summary>
    public bool Direct { get; init; }

    /// <summary>
    /// The ingest queues' type: "classic" (one broker), or "quorum" (replicated by Raft across a RabbitMQ cluster, so a
    /// broker node lost loses no acknowledged message). A queue keeps the type it was declared with (docs/operations.md).
    /// </summary>
    public string QueueType { get; init; } = "classic";
    public TimeSpan ReplyTimeout { get; init; } = TimeSpan.FromMinutes(2);
    /// <summary>How long to try to reach the broker before giving up with a clear error (MassTransit alone would retry for ever).</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(30);
    public TimeProvider Clock { get; init; } = TimeProvider.System;
    /// <summary>Where MassTransit logs (connections, faults, reconnects); none for a command-line producer.</summary>
    public Microsoft.Extensions.Logging.ILoggerFactory? Logging { get; init; }
}

/// <summary>
/// A MassTransit bus for the ingest service and/or a producer. With no broker it uses the in-memory transport, so the
/// embedded mode sends every message through the same consumers, serializer and replies as RabbitMQ does.
/// </summary>
public sealed class IngestHost : IAsyncDisposable
{
    private readonly ServiceProvider? _provider;
    private readonly IBusControl? _bus;
    private readonly AmqpProducer? _producer;

    private IngestHost(ServiceProvider? provider, IBusControl? bus, IngestClient? client, AmqpProducer? producer = null)
    {
        _provider = provider;
        _bus = bus;
        Client = client;
        _producer = producer;
    }

    public IngestClient? Client { get; }

    /// <summary>The bus as MassTransit sees it: healthy when every receive endpoint is connected and consuming.</summary>
    public (bool Healthy, string Description) CheckHealth()
    {
        if (_bus is null)
            return (_producer is not null, _producer is not null ? "producer connection" : "no bus");
        var result = _bus.CheckHealth();
        return (result.Status == BusHealthStatus.Healthy, result.Description);
    }

    public static async Task<IngestHost> StartAsync(IngestHostOptions options, CancellationToken cancellationToken = default)
    {
        var router = new ReplyRouter();
        if (options is { Amqp: { } amqp, Vault: null, Producer: { } name })
        {
            // A producer on RabbitMQ: plain AMQP, so the write-only producer account suffices (docs/wire-format.md).
            var producer = await AmqpProducer.StartAsync(amqp, name, router, options.StartTimeout, options.Clock, cancellationToken);
            return new IngestHost(null, null, new IngestClient(producer, router, IngestQueues.ReplyQueue(name), options.ReplyTimeout), producer);
        }

        if (options is { Amqp: null, Vault: { } own, Producer: { } producerName, Direct: true })
        {
            var handler = new IngestHandler(own.Log, own.Store, options.Clock);
            return new IngestHost(null, null, new IngestClient(new DirectSender(handler, router, options.Clock, options.Concurrency), router, IngestQueues.ReplyQueue(producerName), options.ReplyTimeout));
        }

        var services = new ServiceCollection();
        services.AddSingleton(router);
        if (options.Logging is { } logging)
        {
            // MassTransit takes its log context from the container's ILoggerFactory (LogContext.ConfigureCurrentLogContextIfNull).
            services.AddSingleton(logging);
            services.AddSingleton(typeof(Microsoft.Extensions.Logging.ILogger<>), typeof(Microsoft.Extensions.Logging.Logger<>));
        }

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
        using var deadline = new CancellationTokenSource(options.StartTimeout, options.Clock);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var refusals = new RefusalWatch();
        using var watching = busControl.ConnectReceiveEndpointObserver(refusals);
        try
        {
            // A permission refusal is final: say so at once instead of retrying until the start timeout.
            var starting = busControl.StartAsync(timeout.Token);
            if (await Task.WhenAny(starting, refusals.Refused.Task) != starting)
            {
                await timeout.CancelAsync();
                await Task.WhenAny(Task.Run(async () => await provider.DisposeAsync()), Task.Delay(TimeSpan.FromSeconds(2), options.Clock));
                var refusal = await refusals.Refused.Task;
                if (refusal.Message.Contains("x-queue-type", StringComparison.Ordinal))
                {
                    throw new VaultConfigurationException(
                        $"The ingest queues on {BrokerErrors.Redacted(options.Amqp!)} exist with another queue type than QueueType={options.QueueType} ({BrokerErrors.Innermost(refusal)}). "
                        + "A queue keeps its type: start with the QueueType it was made with, or stop every instance, let the queues drain, delete them (rabbitmqctl delete_queue) and start again (docs/operations.md, \"Queues\").");
                }

                throw new StorageRefusedException(
                    $"The message broker at {BrokerErrors.Redacted(options.Amqp!)} refused this account a permission it needs ({BrokerErrors.Innermost(refusal)}). "
                    + (options.Vault is null
                        ? "A producer needs the account ops/rabbitmq-producer.sh creates; nothing was sent."
                        : "The service needs configure, write and read on vault.ingest.* and vault.reply.* (ops/rabbitmq-service.sh); it did not start and consumed nothing."));
            }

            await starting;
        }
        catch (Exception ex) when (ex is StorageRefusedException or VaultConfigurationException)
        {
            throw;
        }
        catch (Exception ex)
        {
            // A bus that never connected may keep retrying in the background and never finish stopping: give it a moment, no more.
            await Task.WhenAny(Task.Run(async () => await provider.DisposeAsync()), Task.Delay(TimeSpan.FromSeconds(2), options.Clock));
            if (options.Amqp is null || cancellationToken.IsCancellationRequested)
                throw;
            throw new StorageUnavailableException(
                BrokerErrors.Unreachable(options.Amqp, options.StartTimeout, ex, options.Vault is null ? "nothing was sent." : "the service did not start and consumed nothing."),
                ex);
        }

        var client = options.Producer is null ? null
            : new IngestClient(new BusSender(busControl), router, IngestQueues.ReplyQueue(options.Producer), options.ReplyTimeout);
        return new IngestHost(provider, busControl, client);
    }

    public async ValueTask DisposeAsync()
    {
        if (_producer is not null)
            await _producer.DisposeAsync();
        if (_bus is not null)
            await _bus.StopAsync(CancellationToken.None);
        if (_provider is not null)
            await _provider.DisposeAsync();
    }

    /// <summary>Notices a receive endpoint refused by the broker for want of a permission (AMQP 403 ACCESS_REFUSED), or for a queue of another type (406 on x-queue-type).</summary>
    private sealed class RefusalWatch : IReceiveEndpointObserver
    {
        public TaskCompletionSource<Exception> Refused { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Ready(ReceiveEndpointReady ready) => Task.CompletedTask;

        public Task Stopping(ReceiveEndpointStopping stopping) => Task.CompletedTask;

        public Task Completed(ReceiveEndpointCompleted completed) => Task.CompletedTask;

        public Task Faulted(ReceiveEndpointFaulted faulted)
        {
            for (var ex = faulted.Exception; ex is not null; ex = ex.InnerException)
            {
                if (ex.Message.Contains("ACCESS_REFUSED", StringComparison.Ordinal)
                    || (ex.Message.Contains("PRECONDITION_FAILED", StringComparison.Ordinal) && ex.Message.Contains("x-queue-type", StringComparison.Ordinal)))
                    Refused.TrySetResult(ex);
            }

            return Task.CompletedTask;
        }
    }

    private static void Configure(IBusRegistrationContext context, IBusFactoryConfigurator bus, IngestHostOptions options)
    {
        bus.UsePlainJson();
        if (options.Vault is not null)
            bus.ConfigureIngestEndpoints(context, options.Concurrency, options.QueueType == "quorum");
        if (options.Producer is not null)
            bus.ReceiveEndpoint(IngestQueues.ReplyQueue(options.Producer), e => e.ConfigureConsumer<ReplyConsumer>(context));
    }
}
