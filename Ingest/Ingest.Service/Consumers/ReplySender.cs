using Ingest.Contracts;
using MassTransit;

namespace Ingest.Service.Consumers;

/// <summary>A message the vault could not accept: the producer has its rejection; the message goes to the error queue with this reason.</summary>
public sealed class IngestRejectedException(string reason) : Exception(reason);

internal static class ReplySender
{
    /// <summary>
    /// Answers on the producer's reply queue; a rejection then fails the message so it lands in the queue's _error queue
    /// with the reason. Answers to segments go transient, as the segments come (a producer that lost one sends the
    /// segment again and is answered again: docs/wire-format.md, "Delivery guarantees"); the others persistent.
    /// </summary>
    public static async Task ReplyAsync(this ConsumeContext context, string replyTo, IngestReply reply, long plaintextBytes = 0, bool durable = true)
    {
        IngestMetrics.Answered(reply, plaintextBytes);
        if (!string.IsNullOrWhiteSpace(replyTo))
        {
            var endpoint = await context.GetSendEndpoint(new Uri($"queue:{replyTo}"));
            if (durable)
                await endpoint.Send(reply, context.CancellationToken);
            else
                await endpoint.Send(reply, static send => send.Durable = false, context.CancellationToken);
        }

        if (reply.Code is not null)
            throw new IngestRejectedException($"{reply.Type} {reply.Code}: {reply.Reason}");
    }
}
