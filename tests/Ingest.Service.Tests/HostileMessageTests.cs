using System.Text;
using Ingest.Contracts;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Ingest.Service.Tests;

/// <summary>
/// A producer in hostile or buggy hands, with a plain AMQP client written from docs/wire-format.md: every message the
/// vault can answer is answered (a field of the wrong type is `malformed`, naming the field; a query over its limit or
/// with a hash that is not one is refused), a body that cannot be read goes to the queue's _error queue with the reason
/// in its headers, and none of them records anything.
/// </summary>
public sealed class HostileMessageTests : IAsyncLifetime
{
    private const string Hash = "df8b31c8bc58fb8d05e93a5d029cf90ea4715f181d4d1e1bef1464dade1f2c04";
    private TestVault _vault = null!;
    private string _amqp = "";

    public async Task InitializeAsync()
    {
        _amqp = await TestBroker.NewVirtualHostAsync();
        _vault = await TestVault.StartAsync(_amqp);
        await _vault.Client.OpenAsync(new OpenSet { SetId = "s1", Source = "web", Name = "n", Kind = "tree" }, CancellationToken.None);
    }

    public async Task DisposeAsync() => await _vault.DisposeAsync();

    public static TheoryData<string, string, string, string> WrongTypes => new()
    {
        { "segment", $$"""{"setId":"s1","sequence":"seven","sha256":"{{Hash}}","length":3,"encoding":"identity","data":"YWJj","replyTo":"REPLY"}""", "segment-rejected", "field 'sequence' must be a whole number; it is the string \"seven\"" },
        { "segment", $$"""{"setId":"s1","sequence":1,"sha256":"{{Hash}}","length":"1000","encoding":"identity","data":"YWJj","replyTo":"REPLY"}""", "segment-rejected", "field 'length' must be a whole number" },
        { "segment", $$"""{"setId":"s1","sequence":1,"sha256":"{{Hash}}","length":3,"encoding":"identity","data":"!!","replyTo":"REPLY"}""", "segment-rejected", "field 'data' must be base64 text" },
        { "segment", $$"""{"setId":"s1","sequence":1.5,"sha256":"{{Hash}}","length":3,"encoding":"identity","data":"YWJj","replyTo":"REPLY"}""", "segment-rejected", "field 'sequence' must be a whole number; it is the number 1.5" },
        { "open", """{"setId":"s2","source":"web","name":"n","kind":"tree","labels":"k=v","replyTo":"REPLY"}""", "set-rejected", "field 'labels' must be an object" },
        { "open", """{"setId":"s2","source":"web","name":"n","kind":"tree","labels":{"k":7},"replyTo":"REPLY"}""", "set-rejected", "label 'k' must be a string" },
        { "open", """{"setId":["s2"],"source":"web","name":"n","kind":"tree","replyTo":"REPLY"}""", "set-rejected", "field 'setId' must be a string; it is an array" },
        { "seal", $$"""{"setId":"s1","segmentCount":0,"manifestSha256":"{{Hash}}","manifestLength":"x","manifestEncoding":"identity","manifest":"e30=","replyTo":"REPLY"}""", "set-rejected", "field 'manifestLength' must be a whole number" },
        { "query", """{"queryId":"q1","hashes":[7],"replyTo":"REPLY"}""", "query-rejected", "hashes[0] must be a string; it is the number 7" },
        { "query", """{"queryId":"q1","hashes":"all","replyTo":"REPLY"}""", "query-rejected", "field 'hashes' must be an array of strings" },
        { "query", """{"queryId":"q1","hashes":["not-a-hash"],"replyTo":"REPLY"}""", "query-rejected", "hashes[0] is not 64 hex digits" },
    };

    [Theory]
    [MemberData(nameof(WrongTypes))]
    public async Task a_field_of_the_wrong_type_is_answered_malformed_naming_it_and_goes_to_error_with_nothing_recorded(string queue, string body, string type, string reason)
    {
        var head = await _vault.Log.ReadHeadAsync();
        var (replies, errors) = await PublishAsync(queue, Encoding.UTF8.GetBytes(body));

        Assert.True(replies.Count == 1, $"{replies.Count} replies; _error: {string.Join(" | ", errors)}");
        var reply = Reply(replies[0]);
        Assert.Equal((type, "malformed"), (reply.Type, reply.Code));
        Assert.Contains(reason, reply.Reason);
        Assert.Contains(reason, Assert.Single(errors));
        Assert.Equal(head, await _vault.Log.ReadHeadAsync());
    }

    [Fact]
    public async Task a_query_over_the_documented_limit_is_refused_and_one_at_the_limit_is_answered()
    {
        var over = $$"""{"queryId":"q2","hashes":[{{string.Join(',', Enumerable.Repeat($"\"{Hash}\"", 10_001))}}],"replyTo":"REPLY"}""";
        var at = over.Replace($",\"{Hash}\"]", "]", StringComparison.Ordinal);
        var (refused, errors) = await PublishAsync("query", Encoding.UTF8.GetBytes(over));
        var (answered, _) = await PublishAsync("query", Encoding.UTF8.GetBytes(at));

        Assert.Equal(("query-rejected", "too-large", "q2"), (Reply(Assert.Single(refused)).Type, Reply(refused[0]).Code, Reply(refused[0]).QueryId));
        Assert.Contains("10001 hashes; at most 10000", Reply(refused[0]).Reason);
        Assert.Single(errors);
        Assert.Equal("segments-present", Reply(Assert.Single(answered)).Type);
    }

    [Theory]
    [InlineData("query", "", "the body is empty")]
    [InlineData("segment", "", "the body is empty")]
    [InlineData("open", "[1,2]", "the body is a JSON array, not an object")]
    [InlineData("seal", "{\"setId\": ", "the body is not JSON")]
    public async Task a_body_that_cannot_be_read_goes_to_error_with_its_reason_and_records_nothing(string queue, string body, string reason)
    {
        var head = await _vault.Log.ReadHeadAsync();
        var (replies, errors) = await PublishAsync(queue, Encoding.UTF8.GetBytes(body));

        Assert.Empty(replies);
        Assert.Contains(reason, Assert.Single(errors));
        Assert.Equal(head, await _vault.Log.ReadHeadAsync());
    }

    private static IngestReply Reply(string json) => System.Text.Json.JsonSerializer.Deserialize<IngestReply>(json)!;

    /// <summary>Publishes one raw body to vault.ingest.QUEUE, then gathers the replies and the _error messages' fault reasons.</summary>
    private async Task<(List<string> Replies, List<string> Errors)> PublishAsync(string queue, byte[] body)
    {
        var replyQueue = "vault.reply.raw-" + Guid.NewGuid().ToString("N")[..8];
        body = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(body).Replace("REPLY", replyQueue, StringComparison.Ordinal));
        var replies = new List<string>();
        var errors = new List<string>();
        var errorQueue = $"vault.ingest.{queue}_error";
        var factory = new ConnectionFactory { Uri = new Uri(_amqp) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeclareAsync(replyQueue, durable: true, exclusive: false, autoDelete: false); // as MassTransit declares it when it replies
        await channel.QueueDeclareAsync(errorQueue, durable: true, exclusive: false, autoDelete: false); // so it can be read before the first fault creates it
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            lock (replies)
                replies.Add(Encoding.UTF8.GetString(delivery.Body.Span));
            return Task.CompletedTask;
        };
        await channel.BasicConsumeAsync(replyQueue, autoAck: true, consumer);
        await channel.BasicPublishAsync($"vault.ingest.{queue}", "", mandatory: true, new BasicProperties { ContentType = "application/json", Persistent = true }, body);

        // The fault lands in _error after the reply was sent (or at once, with none to send): wait for it, then a moment for stray replies.
        for (var attempt = 0; attempt < 100 && errors.Count == 0; attempt++)
        {
            await Task.Delay(100);
            while (await channel.BasicGetAsync(errorQueue, autoAck: true) is { } fault)
                errors.Add(fault.BasicProperties.Headers?.TryGetValue("vault-reason", out var m) == true && m is byte[] b ? Encoding.UTF8.GetString(b) : "(no vault-reason header)");
        }

        await Task.Delay(300);
        await channel.QueueDeleteAsync(replyQueue);
        lock (replies)
            return ([.. replies], errors);
    }
}
