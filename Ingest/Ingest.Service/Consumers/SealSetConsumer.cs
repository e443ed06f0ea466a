using Ingest.Contracts;
using MassTransit;

namespace Ingest.Service.Consumers;

public sealed class SealSetConsumer(IngestHandler handler) : IConsumer<SealSet>
{
    public async Task Consume(ConsumeContext<SealSet> context) =>
        await context.ReplyAsync(context.Message.ReplyTo, await handler.SealAsync(context.Message, context.CancellationToken));
}
