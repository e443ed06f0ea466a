using Ingest.Contracts;
using MassTransit;
using Vault.Core.Errors;

namespace Ingest.Client;

/// <summary>The vault refused something the producer sent; the reply's code and sentence say what.</summary>
public sealed class IngestRefusedException(IngestReply reply)
    : VaultException($"The vault refused {reply.Type.Replace("-rejected", "", StringComparison.Ordinal)} {reply.SetId}{(reply.Sequence is { } s ? $" segment {s}" : "")} ({reply.Code}): {reply.Reason}")
{
    public override FailureKind Kind => FailureKind.Refused;
    public IngestReply Reply { get; } = reply;
}

/// <summary>Sends the wire messages of docs/wire-format.md and waits for each answer on this producer's reply queue.</summary>
public sealed class IngestClient(IIngestSender sender, ReplyRouter router, string replyQueue, TimeSpan replyTimeout)
{
    public async Task OpenAsync(OpenSet message, CancellationToken ct) =>
        Check(await SendAsync(IngestQueues.OpenSet, message with { ReplyTo = replyQueue }, $"set:{message.SetId}", ct));

    public async Task<IngestReply> PutAsync(PutSegment message, CancellationToken ct) =>
        Check(await SendAsync(IngestQueues.PutSegment, message with { ReplyTo = replyQueue }, $"segment:{message.SetId}:{message.Sequence}", ct));

    /// <summary>The vault's handler runs in this process (<see cref="IIngestSender.InProcess"/>).</summary>
    public bool InProcess => sender.InProcess;

    /// <summary>
    /// As <see cref="PutAsync(PutSegment, CancellationToken)"/>, for a vault in this process, with the plaintext the
    /// frame was made from and its hash computed over: the vault compares instead of hashing again. Read until the
    /// answer, like the frame. On any other sender it is not sent, and the vault checks the hash.
    /// </summary>
    public async Task<IngestReply> PutAsync(PutSegment message, ReadOnlyMemory<byte> madeFrom, CancellationToken ct)
    {
        if (!sender.InProcess)
            return await PutAsync(message, ct);
        var local = new LocalSegment(message with { ReplyTo = replyQueue }, madeFrom);
        return Check(await SendAsync(IngestQueues.PutSegment, local, $"segment:{message.SetId}:{message.Sequence}", ct));
    }

    public async Task<IngestReply> SealAsync(SealSet message, CancellationToken ct) =>
        Check(await SendAsync(IngestQueues.SealSet, message with { ReplyTo = replyQueue }, $"set:{message.SetId}", ct));

    /// <summary>Which of these hashes the vault holds, asked 5,000 at a time (the service answers at most 10,000 per query).</summary>
    public async Task<IReadOnlySet<string>> QueryAsync(IReadOnlyCollection<string> hashes, CancellationToken ct)
    {
        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (var batch in hashes.Chunk(5_000))
        {
            var id = Guid.NewGuid().ToString("N");
            var reply = Check(await SendAsync(IngestQueues.QuerySegments, new QuerySegments { QueryId = id, Hashes = batch, ReplyTo = replyQueue }, $"query:{id}", ct));
            present.UnionWith(reply.Present ?? []);
        }

        return present;
    }

    /// <summary>Sends of one message after reconnections, at most: a broker that keeps restarting ends the push after the reply timeout.</summary>
    private const int MaxResends = 5;

    private async Task<IngestReply> SendAsync<T>(string queue, T message, string key, CancellationToken ct) where T : class
    {
        var reply = router.Expect(key);
        try
        {
            for (var resends = 0; ; resends++)
            {
                var reconnected = sender.Reconnected; // taken before the send: a reconnection after it is seen
                await sender.SendAsync(queue, message, ct); // with RabbitMQ, completes when the broker confirmed it
                if (resends == MaxResends)
                    return await reply.WaitAsync(replyTimeout, ct);
                if (await Task.WhenAny(reply, reconnected).WaitAsync(replyTimeout, ct) == reply)
                    return await reply;
                // The connection to the broker was lost and made again before the answer came: the broker may have
                // lost this message (a segment travels transient) or its answer. Sent again, the vault answers it
                // again and records it once (docs/wire-format.md, "Delivery guarantees").
            }
        }
        catch (TimeoutException)
        {
            throw new StorageUnavailableException($"No answer from the vault's ingest service within {replyTimeout.TotalSeconds:F0} s for {key}. Is 'vault serve' running? Running the same push again completes it.");
        }
        finally
        {
            router.Forget(key);
        }
    }

    private static IngestReply Check(IngestReply reply) => reply.Code switch
    {
        null => reply,
        "storage-unavailable" => throw new StorageUnavailableException($"{reply.Reason} Running the same push again completes it."),
        _ => throw new IngestRefusedException(reply),
    };
}

/// <summary>
/// A segment for a vault in this same process, with the plaintext its frame was made from: never serialized, never
/// on a bus (no consumer takes it), so only code inside the vault's own process can hand a plaintext to compare with.
/// </summary>
public sealed record LocalSegment(PutSegment Segment, ReadOnlyMemory<byte> MadeFrom);
