using Ingest.Contracts;
using MassTransit;

namespace Ingest.Service.Consumers;

public sealed class QuerySegmentsConsumer(IngestHandler handler) : IConsumer<QuerySegments>
{
    public async Task Consume(ConsumeContext<QuerySegments> context) =>
        await context.ReplyAsync(context.Message.ReplyTo, await handler.QueryAsync(context.Message, context.CancellationToken));
}
