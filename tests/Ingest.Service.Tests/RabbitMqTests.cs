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
}
