using System.Collections.Concurrent;
using Ingest.Contracts;
using MassTransit;

namespace Ingest.Client;

/// <summary>Matches replies on this producer's reply queue to the requests waiting for them.</summary>
public sealed class ReplyRouter
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<IngestReply>> _waiting = new(StringComparer.Ordinal);

    public static string KeyOf(IngestReply reply) => reply.Type switch
    {
        IngestReply.SetOpenedType or IngestReply.SetRejectedType or IngestReply.SetSealedType => $"set:{reply.SetId}",
        IngestReply.SegmentAcceptedType or IngestReply.SegmentRejectedType => $"segment:{reply.SetId}:{reply.Sequence}",
        IngestReply.SegmentsPresentType or IngestReply.QueryRejectedType => $"query:{reply.QueryId}",
        _ => $"unknown:{reply.Type}",
    };

    public Task<IngestReply> Expect(string key) =>
        _waiting.GetOrAdd(key, _ => new TaskCompletionSource<IngestReply>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public void Forget(string key) => _waiting.TryRemove(key, out _);

    public void Deliver(IngestReply reply)
    {
        if (_waiting.TryRemove(KeyOf(reply), out var waiting))
            waiting.TrySetResult(reply);
    }
}

public sealed class ReplyConsumer(ReplyRouter router) : IConsumer<IngestReply>
{
    public Task Consume(ConsumeContext<IngestReply> context)
    {
        router.Deliver(context.Message);
        return Task.CompletedTask;
    }
}
