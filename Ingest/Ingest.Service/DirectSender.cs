using Ingest.Client;
using Ingest.Contracts;
using Vault.Core.Errors;

namespace Ingest.Service;

/// <summary>
/// The embedded push's sender (docs/architecture.md, "Embedded push"): each message goes to the same
/// <see cref="IngestHandler"/> the bus consumers call, on a pool thread, at most <paramref name="concurrency"/> at a time
/// as the consumers' limit, and its answer to the reply router, with no bus between: no serializer, no in-memory
/// queues, no bus to start. A storage hiccup is retried at the consumers' intervals; after them the push fails saying
/// so, as a producer on the bus would be answered. The bus path keeps its own tests (RoundTripTests and the RabbitMQ
/// suites); this one serves a process that is its own producer and its own vault, where nothing crosses a wire.
/// </summary>
public sealed class DirectSender(IngestHandler handler, ReplyRouter router, TimeProvider clock, int concurrency) : IIngestSender
{
    private readonly SemaphoreSlim _slots = new(concurrency);

    /// <summary>The handler is in this process: a push may hand it the plaintext a frame was made from (<see cref="LocalSegment"/>).</summary>
    public bool InProcess => true;

    public async Task SendAsync<T>(string queue, T message, CancellationToken ct) where T : class
    {
        await _slots.WaitAsync(ct);
        try
        {
            // Off the producer's flow: verifying a frame is CPU work that must not hold up reading and cutting the next.
            var (reply, plaintext) = await Task.Run(() => HandleWithRetriesAsync(message, ct), ct);
            IngestMetrics.Answered(reply, plaintext);
            router.Deliver(reply);
        }
        finally
        {
            _slots.Release();
        }
    }

    private async Task<(IngestReply Reply, long Plaintext)> HandleWithRetriesAsync(object message, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return message switch
                {
                    LocalSegment l => (await handler.PutSegmentAsync(l.Segment, ct, l.MadeFrom), l.Segment.Length),
                    PutSegment m => (await handler.PutSegmentAsync(m, ct), m.Length),
                    OpenSet m => (await handler.OpenAsync(m, ct), 0),
                    SealSet m => (await handler.SealAsync(m, ct), 0),
                    QuerySegments m => (await handler.QueryAsync(m, ct), 0),
                    _ => throw new ArgumentException($"No ingest message is a {message.GetType().Name}.", nameof(message)),
                };
            }
            catch (Exception ex) when (ex is not (OperationCanceledException or ArgumentException) && attempt < IngestBus.RetryIntervals.Length)
            {
                await Task.Delay(IngestBus.RetryIntervals[attempt], clock, ct);
            }
            catch (StorageUnavailableException ex)
            {
                throw new StorageUnavailableException($"The vault's storage is unavailable ({ex.Message.TrimEnd('.')}). This is retryable: nothing was recorded for this message; running the same push again completes it.", ex);
            }
        }
    }
}
