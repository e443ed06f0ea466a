using System.Text;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace Ingest.Service.Tests;

/// <summary>A producer's broker account (ops/rabbitmq-producer.sh) may publish and read its own replies, and nothing else.</summary>
public sealed class ProducerPermissionTests
{
    [Fact]
    public async Task a_producer_account_can_publish_but_cannot_consume_purge_or_delete_ingest_queues_or_read_others_replies()
    {
        // Broker users are global, not per virtual host: these names are used by no other test, which runs in parallel.
        var amqp = await TestBroker.NewVirtualHostAsync();
        await using var vault = await TestVault.StartAsync(amqp); // the service declares the ingest queues
        var vhost = new Uri(amqp).AbsolutePath.Trim('/');
        await TestBroker.RunOpsScriptAsync("rabbitmq-producer.sh", "perm-web01", "s3cret", vhost);
        await TestBroker.RunOpsScriptAsync("rabbitmq-producer.sh", "perm-db01", "other", vhost);
        var builder = new UriBuilder(amqp) { UserName = "perm-web01", Password = "s3cret" };
        var factory = new ConnectionFactory { Uri = builder.Uri };
        await using var connection = await factory.CreateConnectionAsync();

        await using (var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true)))
        {
            await channel.QueueDeclareAsync("vault.reply.perm-web01", durable: true, exclusive: false, autoDelete: false);
            var body = Encoding.UTF8.GetBytes("""{"setId":"perm-1","source":"web01","name":"n","kind":"tree","replyTo":"vault.reply.perm-web01"}""");
            await channel.BasicPublishAsync("vault.ingest.open", "", mandatory: true, new BasicProperties { ContentType = "application/json", Persistent = true }, body);
        }

        var refused = new List<string>();
        foreach (var (what, attempt) in new (string, Func<IChannel, Task>)[]
        {
            ("consume ingest queue", c => c.BasicConsumeAsync("vault.ingest.segment", autoAck: true, new AsyncEventingBasicConsumer(c))),
            ("purge ingest queue", c => c.QueuePurgeAsync("vault.ingest.segment")),
            ("delete ingest queue", c => c.QueueDeleteAsync("vault.ingest.segment")),
            ("delete ingest exchange", c => c.ExchangeDeleteAsync("vault.ingest.segment")),
            ("read another producer's replies", c => c.BasicConsumeAsync("vault.reply.perm-db01", autoAck: true, new AsyncEventingBasicConsumer(c))),
        })
        {
            await using var channel = await connection.CreateChannelAsync();
            try
            {
                await attempt(channel);
            }
            catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 403)
            {
                refused.Add(what);
            }
        }

        Assert.Equal(["consume ingest queue", "purge ingest queue", "delete ingest queue", "delete ingest exchange", "read another producer's replies"], refused);
        var queues = await TestBroker.RabbitMqCtlAsync("list_queues", "-p", vhost, "name");
        Assert.Contains("vault.ingest.segment", queues);
        for (var i = 0; i < 50 && (await new Vault.Services.BackupSets(vault.Log).LoadAsync("perm-1")).State.Status == Vault.Core.Sets.SetStatus.None; i++)
            await Task.Delay(100);
        Assert.Equal(Vault.Core.Sets.SetStatus.Open, (await new Vault.Services.BackupSets(vault.Log).LoadAsync("perm-1")).State.Status);
    }
}
