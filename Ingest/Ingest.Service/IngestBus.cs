using Ingest.Client;
using Ingest.Contracts;
using Ingest.Service.Consumers;
using MassTransit;

namespace Ingest.Service;

/// <summary>
/// The ingest service's MassTransit wiring, shared by 'vault serve' (RabbitMQ) and the embedded mode (in-memory):
/// one queue per command, plain JSON without an envelope (docs/wire-format.md) so any AMQP client can produce.
/// </summary>
public static class IngestBus
{
    public static void AddIngestConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<OpenSetConsumer>();
        bus.AddConsumer<PutSegmentConsumer>();
        bus.AddConsumer<SealSetConsumer>();
        bus.AddConsumer<QuerySegmentsConsumer>();
    }

    /// <summary>How long a message that failed on a storage hiccup waits before each retry, on the bus and in-process alike.</summary>
    public static TimeSpan[] RetryIntervals => [TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5)];

    /// <summary>
    /// Plain JSON in and out, whatever the message type: every queue here carries one shape. Segments are sent in their
    /// binary form (bytes as the body, fields as headers) and accepted in either form.
    /// </summary>
    public static void UsePlainJson(this IBusFactoryConfigurator bus)
    {
        bus.UseRawJsonSerializer(RawSerializerOptions.AnyMessageType, isDefault: true);
        bus.UseRawJsonDeserializer(RawSerializerOptions.AnyMessageType, isDefault: true);
        var segments = new SegmentWireFormat();
        bus.AddSerializer(segments, false);
        bus.AddDeserializer(segments, false);
        bus.Send<PutSegment>(x => x.UseSerializer(SegmentWireFormat.SegmentContentType));
    }

    public static void ConfigureIngestEndpoints(this IBusFactoryConfigurator bus, IBusRegistrationContext context, int concurrency, bool quorum = false)
    {
        Endpoint<OpenSetConsumer>(bus, context, IngestQueues.OpenSet, WireKind.Open, concurrency, quorum);
        Endpoint<PutSegmentConsumer>(bus, context, IngestQueues.PutSegment, WireKind.Segment, concurrency, quorum);
        Endpoint<SealSetConsumer>(bus, context, IngestQueues.SealSet, WireKind.Seal, concurrency, quorum);
        Endpoint<QuerySegmentsConsumer>(bus, context, IngestQueues.QuerySegments, WireKind.Query, concurrency, quorum);
    }

    private static void Endpoint<TConsumer>(IBusFactoryConfigurator bus, IBusRegistrationContext context, string queue, WireKind kind, int concurrency, bool quorum)
        where TConsumer : class, IConsumer
    {
        bus.ReceiveEndpoint(queue, e =>
        {
            if (quorum && e is IRabbitMqReceiveEndpointConfigurator rabbit)
                rabbit.SetQuorumQueue(); // replicated across the cluster's nodes; durable, never exclusive or auto-deleted
            // Least privilege (docs/wire-format.md, "Accounts"): the queue is bound to its own exchange only, never to
            // MassTransit's message-type exchanges, so the service needs nothing outside vault.ingest.* and vault.reply.*.
            e.ConfigureConsumeTopology = false;
            e.ConcurrentMessageLimit = concurrency;
            e.PrefetchCount = concurrency * 2;
            // Rejections are final (the producer has its answer); storage hiccups are retried before the message is faulted.
            e.UseMessageRetry(r =>
            {
                r.Ignore<IngestRejectedException>();
                r.Ignore<UnreadableMessageException>();
                r.Intervals(RetryIntervals);
            });
            e.UseFilter(new EmptyBodyFilter(kind));
            // Every failure ends here after the retries: answer the producer, then move the message to _error with the
            // fault headers. No Fault<T> is published: nothing consumes it, and publishing would need exchanges outside our names.
            e.ConfigureError(x =>
            {
                x.UseFilter(new FaultAnswerFilter(kind));
                x.UseFilter(new MassTransit.Middleware.ErrorTransportFilter());
            });
            e.ConfigureConsumer<TConsumer>(context);
        });
    }
}
