using System.Globalization;
using System.Text.Json;
using Ingest.Contracts;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;
using Vault.Core.Errors;

namespace Ingest.Client;

/// <summary>Where a producer's messages go: the bus (embedded mode) or a plain AMQP connection.</summary>
public interface IIngestSender
{
    Task SendAsync<T>(string queue, T message, CancellationToken ct) where T : class;

    /// <summary>
    /// True when the vault's handler runs in this process (an embedded push): a segment may then travel as a
    /// <see cref="LocalSegment"/>, with the plaintext its frame was made from. False for anything with a wire between.
    /// </summary>
    bool InProcess => false;

    /// <summary>
    /// Completes the next time the connection to the broker is made again after it was lost: a message sent before
    /// then and not yet answered may have been lost with it (segments travel transient), or its answer may have, so
    /// the client sends it again. Never completes for a sender with no connection to lose.
    /// </summary>
    Task Reconnected => Never;

    private static readonly Task Never = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously).Task;
}

/// <summary>
/// A producer on RabbitMQ.Client that lives by the write-only account ops/rabbitmq-producer.sh makes: it publishes to
/// the four vault.ingest.* exchanges (with publisher confirms, mandatory), declares and reads only its own reply queue
/// vault.reply.NAME, and declares nothing else — where MassTransit would declare the topology it sends to and so need
/// configure rights on the ingest exchanges. Segments go in their binary form (docs/wire-format.md).
/// <para>
/// Segments are published transient; open, seal and query persistent. A segment is held by the push until the vault
/// has answered that it is durable in the vault's own store and log, and is sent again when the connection comes back
/// after a loss (<see cref="IIngestSender.Reconnected"/>), so the broker's disk would hold a third copy of every byte
/// for nothing: on a classic queue a persistent segment is written to the broker's message store and synced before
/// the broker confirms it, which cost the broker about 4 of its 5–6 CPU-s per GiB pushed and the push a quarter of its time
/// (docs/benchmarks.md, "Segments transient through the broker").
/// </para>
/// </summary>
public sealed class AmqpProducer : IIngestSender, IAsyncDisposable
{
    private const int Channels = 4;
    private readonly IConnection _connection;
    private readonly IChannel _replies;
    private readonly Lane[] _lanes;
    private readonly string _address;
    private readonly Reconnections _reconnections;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _clock;
    private int _next;

    private AmqpProducer(IConnection connection, IChannel replies, Lane[] lanes, string address, Reconnections reconnections, TimeSpan timeout, TimeProvider clock)
    {
        _connection = connection;
        _replies = replies;
        _lanes = lanes;
        _address = address;
        _reconnections = reconnections;
        _timeout = timeout;
        _clock = clock;
    }

    public Task Reconnected => _reconnections.Next;

    /// <summary>Publishes of one message, at most, when the connection goes down under them (each after it came back).</summary>
    private const int PublishAttempts = 3;

    /// <summary>The connection's recoveries: each completes the task handed out before it and starts the next.</summary>
    private sealed class Reconnections
    {
        private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Next => Volatile.Read(ref _next).Task;

        public Task Recovered()
        {
            Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            return Task.CompletedTask;
        }
    }

    /// <summary>One publishing channel and the lock that keeps one publish at a time on it.</summary>
    private sealed class Lane(IChannel channel)
    {
        public IChannel Channel { get; set; } = channel;
        public SemaphoreSlim Lock { get; } = new(1, 1);
    }

    public static async Task<AmqpProducer> StartAsync(string amqp, string producer, ReplyRouter router, TimeSpan timeout, TimeProvider clock, CancellationToken ct)
    {
        var address = BrokerErrors.Redacted(amqp);
        var factory = new ConnectionFactory
        {
            Uri = new Uri(amqp), ClientProvidedName = $"vault-producer-{producer}", AutomaticRecoveryEnabled = true, TopologyRecoveryEnabled = true,
            RequestedConnectionTimeout = timeout,
        };
        IConnection connection;
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            deadline.CancelAfter(timeout);
            try
            {
                connection = await factory.CreateConnectionAsync(deadline.Token);
            }
            catch (Exception ex) when (Refusal(ex) is { } refused)
            {
                throw new StorageRefusedException($"The message broker at {address} refused this producer ({refused}). Check the user and password in --amqp (or VAULT_AMQP) and its vhost rights (ops/rabbitmq-producer.sh); nothing was sent.", ex);
            }
            catch (Exception ex) when (ex is BrokerUnreachableException or OperationCanceledException or IOException or TimeoutException && !ct.IsCancellationRequested)
            {
                throw new StorageUnavailableException(BrokerErrors.Unreachable(amqp, timeout, ex, "nothing was sent."), ex);
            }
        }

        var reconnections = new Reconnections();
        connection.RecoverySucceededAsync += (_, _) => reconnections.Recovered();
        try
        {
            var queue = IngestQueues.ReplyQueue(producer);
            var replies = await connection.CreateChannelAsync(cancellationToken: ct);
            // As the service declares it when it first answers (durable, shared, kept): the same declaration from either side.
            await replies.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, cancellationToken: ct);
            var consumer = new AsyncEventingBasicConsumer(replies);
            consumer.ReceivedAsync += async (_, delivery) =>
            {
                if (TryRead(delivery.Body) is { } reply)
                    router.Deliver(reply);
                await replies.BasicAckAsync(delivery.DeliveryTag, multiple: false); // a reply no one waits for (a rerun's old answers) is dropped
            };
            await replies.BasicConsumeAsync(queue, autoAck: false, consumer, ct);
            var lanes = new Lane[Channels];
            for (var i = 0; i < lanes.Length; i++)
                lanes[i] = new Lane(await OpenPublishChannelAsync(connection, ct));
            return new AmqpProducer(connection, replies, lanes, address, reconnections, timeout, clock);
        }
        catch (Exception ex) when (Refusal(ex) is { } refused)
        {
            await connection.DisposeAsync();
            throw new StorageRefusedException($"The message broker at {address} refused this producer a permission it needs ({refused}). A producer needs the account ops/rabbitmq-producer.sh creates; nothing was sent.", ex);
        }
    }

    public async Task SendAsync<T>(string queue, T message, CancellationToken ct) where T : class
    {
        var (body, properties) = Encode(message);
        for (var attempt = 1; ; attempt++)
        {
            var reconnected = Reconnected; // taken before the publish, so a recovery during it is seen
            try
            {
                await PublishAsync(queue, body, properties, ct);
                return;
            }
            catch (StorageUnavailableException ex) when (attempt < PublishAttempts && !ct.IsCancellationRequested
                                                         && ex.InnerException is AlreadyClosedException or OperationInterruptedException or IOException
                                                         && (!_connection.IsOpen || reconnected.IsCompleted)) // the connection, not only this channel (a missing exchange closes the channel alone)
            {
                // The connection went down under this publish (a broker restart, a network cut): the client makes it
                // again on its own. Once it has, publish again; the vault answers a message it gets twice once per
                // copy and records it once (docs/wire-format.md, "Delivery guarantees").
                if (!await WithinAsync(reconnected, ct))
                    throw;
            }
        }
    }

    /// <summary>Whether the connection came back within the start timeout.</summary>
    private async Task<bool> WithinAsync(Task reconnected, CancellationToken ct)
    {
        try
        {
            await reconnected.WaitAsync(_timeout, _clock, ct);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private async Task PublishAsync(string queue, ReadOnlyMemory<byte> body, BasicProperties properties, CancellationToken ct)
    {
        var lane = _lanes[(int)((uint)Interlocked.Increment(ref _next) % _lanes.Length)];
        await lane.Lock.WaitAsync(ct);
        try
        {
            if (lane.Channel.IsClosed)
                lane.Channel = await OpenPublishChannelAsync(_connection, ct); // the last publish on it was refused
            await lane.Channel.BasicPublishAsync(queue, "", mandatory: true, properties, body, ct); // returns once the broker confirmed
        }
        catch (PublishException ex) when (ex.IsReturn)
        {
            throw new StorageUnavailableException($"The broker at {_address} has no queue bound to exchange {queue}: no vault service has declared it. Start 'vault serve' against this broker and vhost, then push again.", ex);
        }
        catch (PublishException ex)
        {
            throw new StorageUnavailableException($"The broker at {_address} did not accept the message for {queue} (negative acknowledgement). Push again; the rerun completes it.", ex);
        }
        catch (Exception ex) when (Refusal(ex) is { } refused)
        {
            throw new StorageRefusedException($"The broker at {_address} refused this producer access to {queue} ({refused}). A producer needs write on the vault.ingest.* exchanges (ops/rabbitmq-producer.sh).", ex);
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            throw new StorageUnavailableException($"The broker at {_address} has no exchange {queue}: 'vault serve' has not run against this broker and vhost yet. Start it, then push again.", ex);
        }
        catch (Exception ex) when (ex is AlreadyClosedException or OperationInterruptedException or IOException)
        {
            throw new StorageUnavailableException($"The connection to the broker at {_address} failed while sending to {queue} ({BrokerErrors.Innermost(ex)}). Push again once it is back; the rerun completes it.", ex);
        }
        finally
        {
            lane.Lock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var lane in _lanes)
            await lane.Channel.DisposeAsync();
        await _replies.DisposeAsync();
        await _connection.CloseAsync();
        await _connection.DisposeAsync();
    }

    private static Task<IChannel> OpenPublishChannelAsync(IConnection connection, CancellationToken ct) =>
        connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), ct);

    /// <summary>JSON for open, seal and query; the binary form for a segment (its bytes as the body, its fields as headers).</summary>
    private static (ReadOnlyMemory<byte> Body, BasicProperties Properties) Encode<T>(T message) where T : class
    {
        if (message is PutSegment segment)
        {
            return (segment.Data ?? ReadOnlyMemory<byte>.Empty, new BasicProperties
            {
                ContentType = SegmentWireFormat.MediaType, Persistent = false, // held until answered and sent again after a reconnection (above)
                Headers = new Dictionary<string, object?>
                {
                    [SegmentWireFormat.SetIdHeader] = segment.SetId,
                    [SegmentWireFormat.SequenceHeader] = segment.Sequence.ToString(CultureInfo.InvariantCulture),
                    [SegmentWireFormat.Sha256Header] = segment.Sha256,
                    [SegmentWireFormat.LengthHeader] = segment.Length.ToString(CultureInfo.InvariantCulture),
                    [SegmentWireFormat.EncodingHeader] = segment.Encoding,
                    [SegmentWireFormat.ReplyToHeader] = segment.ReplyTo,
                },
            });
        }

        return (JsonSerializer.SerializeToUtf8Bytes(message), new BasicProperties { ContentType = "application/json", Persistent = true });
    }

    private static IngestReply? TryRead(ReadOnlyMemory<byte> body)
    {
        try
        {
            return JsonSerializer.Deserialize<IngestReply>(body.Span, new JsonSerializerOptions { PropertyNameCaseInsensitive = true });
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The broker's words when it refused a permission, a vhost or a login (AMQP 403, 530), else null.</summary>
    private static string? Refusal(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is OperationInterruptedException { ShutdownReason.ReplyCode: 403 or 530 } oie)
                return oie.ShutdownReason.ReplyText;
            if (ex is AuthenticationFailureException || ex.Message.Contains("ACCESS_REFUSED", StringComparison.Ordinal) || ex.Message.Contains("NOT_ALLOWED", StringComparison.Ordinal))
                return ex.Message.TrimEnd('.');
        }

        return null;
    }
}

/// <summary>The embedded mode's sender: MassTransit's in-memory bus.</summary>
public sealed class BusSender(MassTransit.ISendEndpointProvider bus) : IIngestSender
{
    public async Task SendAsync<T>(string queue, T message, CancellationToken ct) where T : class
    {
        var endpoint = await bus.GetSendEndpoint(new Uri($"queue:{queue}"));
        await endpoint.Send(message, ct);
    }
}
