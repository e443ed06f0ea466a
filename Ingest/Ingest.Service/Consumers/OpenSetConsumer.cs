using Ingest.Contracts;
using MassTransit;

namespace Ingest.Service.Consumers;

public sealed class OpenSetConsumer(IngestHandler handler) : IConsumer<OpenSet>
{
    public async Task Consume(ConsumeContext<OpenSet> context) =>
        await context.ReplyAsync(context.Message.ReplyTo, await handler.OpenAsync(context.Message, context.CancellationToken));
}
