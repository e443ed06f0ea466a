using Ingest.Contracts;
using MassTransit;

namespace Ingest.Service.Consumers;

public sealed class PutSegmentConsumer(IngestHandler handler) : IConsumer<PutSegment>
{
    public async Task Consume(ConsumeContext<PutSegment> context) =>
        await context.ReplyAsync(context.Message.ReplyTo, await handler.PutSegmentAsync(context.Message, context.CancellationToken), context.Message.Length, durable: false);
}
