using System.Text;
using RabbitMQ.Client;
using Vault.Services;

namespace Ingest.Service.Tests;

/// <summary>The same round trip through the real RabbitMQ: service and producer on separate connections, plain JSON on the wire.</summary>
public sealed class RabbitMqTests
{
    [Fact]
    public async Task a_tree_pushed_through_rabbitmq_restores_byte_for_byte()
    {
        await using var vault = await TestVault.StartAsync(await TestBroker.NewVirtualHostAsync());
        Trees.Generate(vault.Sub("source"), seed: 4);

        await vault.Pusher().PushTreeAsync(vault.Sub("source"), "web-1", "web", "nightly", null, CancellationToken.None);
        await new SetRestorer(vault.Log, vault.Store).RestoreTreeAsync("web-1", vault.Sub("restored"), null, CancellationToken.None);

        Trees.AssertSame(vault.Sub("source"), vault.Sub("restored"));
    }

    [Fact]
    public async Task malformed_json_goes_to_the_error_queue_and_records_nothing()
    {
        var amqp = await TestBroker.NewVirtualHostAsync();
        await using var vault = await TestVault.StartAsync(amqp);
        var head = await vault.Log.ReadHeadAsync();

        var factory = new ConnectionFactory { Uri = new Uri(amqp) };
        await using (var connection = await factory.CreateConnectionAsync())
        await using (var channel = await connection.CreateChannelAsync())
        {
            var properties = new BasicProperties { ContentType = "application/json", Persistent = true };
            await channel.BasicPublishAsync("vault.ingest.segment", "", mandatory: true, properties, Encoding.UTF8.GetBytes("{\"setId\": \"s1\", \"sequence\": "));
        }

        string errors = "";
        for (var attempt = 0; attempt < 50 && !errors.Contains("vault.ingest.segment_error\t1", StringComparison.Ordinal); attempt++)
        {
            await Task.Delay(200);
            errors = await TestBroker.RabbitMqCtlAsync("list_queues", "-p", new Uri(amqp).AbsolutePath.Trim('/'), "name", "messages");
        }

        Assert.Contains("vault.ingest.segment_error\t1", errors);
        Assert.Equal(head, await vault.Log.ReadHeadAsync());
    }

    /// <summary>
    /// The binary form any AMQP client can publish: the frame as the body, the fields as headers. A good one is stored
    /// and acknowledged; one whose hash header does not match the bytes is refused to its producer and records nothing.
    /// </summary>
    [Fact]
    public async Task a_binary_segment_from_a_plain_amqp_client_is_stored_and_a_wrong_hash_header_is_refused()
    {
        var amqp = await TestBroker.NewVirtualHostAsync();
        await using var vault = await TestVault.StartAsync(amqp);
        await vault.Client.OpenAsync(new Contracts.OpenSet { SetId = "s1", Source = "web", Name = "n", Kind = "tree" }, CancellationToken.None);
        var data = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("binary segment ", 1000)));
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(data));
        var frame = new ZstdSharp.Compressor(1).Wrap(data).ToArray();
        var replies = new List<string>();

        var factory = new ConnectionFactory { Uri = new Uri(amqp) };
        await using (var connection = await factory.CreateConnectionAsync())
        await using (var channel = await connection.CreateChannelAsync())
        {
            await channel.QueueDeclareAsync("vault.reply.raw", durable: true, exclusive: false, autoDelete: false);
            var consumer = new RabbitMQ.Client.Events.AsyncEventingBasicConsumer(channel);
            consumer.ReceivedAsync += (_, delivery) =>
            {
                lock (replies)
                    replies.Add(Encoding.UTF8.GetString(delivery.Body.Span));
                return Task.CompletedTask;
            };
            await channel.BasicConsumeAsync("vault.reply.raw", autoAck: true, consumer);
            foreach (var (sequence, sha) in new[] { (0L, hash), (1L, new string('0', 64)) })
            {
                var properties = new BasicProperties
                {
                    ContentType = Client.SegmentWireFormat.MediaType, Persistent = true,
                    Headers = new Dictionary<string, object?>
                    {
                        ["vault-set-id"] = "s1", ["vault-sequence"] = sequence.ToString(System.Globalization.CultureInfo.InvariantCulture), ["vault-sha256"] = sha,
                        ["vault-length"] = data.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), ["vault-encoding"] = "zstd", ["vault-reply-to"] = "vault.reply.raw",
                    },
                };
                await channel.BasicPublishAsync("vault.ingest.segment", "", mandatory: true, properties, frame);
            }

            for (var attempt = 0; attempt < 100 && replies.Count < 2; attempt++)
                await Task.Delay(100);
        }

        Assert.Equal(2, replies.Count);
        Assert.Contains(replies, r => r.Contains("\"segment-accepted\"", StringComparison.Ordinal) && r.Contains(hash, StringComparison.Ordinal));
        Assert.Contains(replies, r => r.Contains("hash-mismatch", StringComparison.Ordinal));
        Assert.Equal(hash, (await new BackupSets(vault.Log).SegmentAsync("s1", 0))!.Hash);
        Assert.Null(await new BackupSets(vault.Log).SegmentAsync("s1", 1));
    }

    /// <summary>
    /// What the broker keeps on its disk: segments and the answers to them travel transient (a push holds each segment
    /// until answered and sends it again after a reconnection, so the broker's copy would be a third copy synced for
    /// nothing); open, seal and query, and their answers, persistent.
    /// </summary>
    [Fact]
    public async Task segments_and_their_answers_travel_transient_while_open_seal_and_their_answers_are_persistent()
    {
        var amqp = await TestBroker.NewVirtualHostAsync();
        await using var vault = await TestVault.StartAsync(amqp);
        var factory = new ConnectionFactory { Uri = new Uri(amqp) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeclareAsync("vault.reply.raw", durable: true, exclusive: false, autoDelete: false);
        await using var producer = await Client.AmqpProducer.StartAsync(amqp, "modes", new Client.ReplyRouter(), TimeSpan.FromSeconds(30), TimeProvider.System, CancellationToken.None);
        var data = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("transient segment ", 500)));
        Contracts.PutSegment Segment(long sequence) => new()
        {
            SetId = "m1", Sequence = sequence, Sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(data)), Length = data.Length,
            Encoding = "identity", Data = data, ReplyTo = "vault.reply.raw",
        };

        // The service answers into a queue nobody consumes: each answer is read there with its delivery mode.
        await producer.SendAsync(Contracts.IngestQueues.OpenSet, new Contracts.OpenSet { SetId = "m1", Source = "web", Name = "n", Kind = "tree", ReplyTo = "vault.reply.raw" }, CancellationToken.None);
        var opened = await GetAsync(channel, "vault.reply.raw");
        await producer.SendAsync(Contracts.IngestQueues.PutSegment, Segment(0), CancellationToken.None);
        var accepted = await GetAsync(channel, "vault.reply.raw");
        Assert.Contains("\"set-opened\"", Encoding.UTF8.GetString(opened.Body.Span), StringComparison.Ordinal);
        Assert.True(opened.BasicProperties.Persistent);
        Assert.Contains("\"segment-accepted\"", Encoding.UTF8.GetString(accepted.Body.Span), StringComparison.Ordinal);
        Assert.False(accepted.BasicProperties.Persistent);

        // With the service stopped, what the producer publishes stays in the ingest queues, as the broker holds it.
        await vault.StopServiceAsync();
        await producer.SendAsync(Contracts.IngestQueues.PutSegment, Segment(1), CancellationToken.None);
        await producer.SendAsync(Contracts.IngestQueues.SealSet, new Contracts.SealSet { SetId = "m1", SegmentCount = 2, ReplyTo = "vault.reply.raw" }, CancellationToken.None);
        var segment = await GetAsync(channel, Contracts.IngestQueues.PutSegment);
        var seal = await GetAsync(channel, Contracts.IngestQueues.SealSet);
        Assert.Equal(data, segment.Body.ToArray());
        Assert.False(segment.BasicProperties.Persistent);
        Assert.True(seal.BasicProperties.Persistent);
    }

    /// <summary>The next message in a queue, waiting for it up to 30 s.</summary>
    private static async Task<BasicGetResult> GetAsync(IChannel channel, string queue)
    {
        for (var attempt = 0; attempt < 300; attempt++)
        {
            if (await channel.BasicGetAsync(queue, autoAck: true) is { } result)
                return result;
            await Task.Delay(100);
        }

        throw new TimeoutException($"Nothing arrived in {queue} within 30 s.");
    }
}
