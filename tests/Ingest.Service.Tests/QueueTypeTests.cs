using System.Diagnostics;
using Vault.Core.Errors;
using Vault.Services;

namespace Ingest.Service.Tests;

/// <summary>
/// Quorum queues (QueueType=quorum, for a RabbitMQ cluster): the ingest queues are declared as quorum queues and a push
/// through them restores byte-exact; a service asking for the other type is told at once what to do, not after 30 s
/// as an unreachable broker.
/// </summary>
public sealed class QueueTypeTests
{
    [Fact]
    public async Task a_push_through_quorum_queues_restores_and_a_service_asking_for_classic_ones_is_told_how_to_change()
    {
        var amqp = await TestBroker.NewVirtualHostAsync();
        var vhost = new Uri(amqp).AbsolutePath.Trim('/');
        await using (var vault = await TestVault.StartAsync(amqp, queueType: "quorum"))
        {
            Trees.Generate(vault.Sub("source"), seed: 11);
            await vault.Pusher().PushTreeAsync(vault.Sub("source"), "q-1", "web", "nightly", null, CancellationToken.None);
            await new SetRestorer(vault.Log, vault.Store).RestoreTreeAsync("q-1", vault.Sub("restored"), null, CancellationToken.None);
            Trees.AssertSame(vault.Sub("source"), vault.Sub("restored"));
        }

        var queues = await TestBroker.RabbitMqCtlAsync("list_queues", "-p", vhost, "name", "type");
        foreach (var queue in new[] { "vault.ingest.open", "vault.ingest.segment", "vault.ingest.seal", "vault.ingest.query" })
            Assert.Contains($"{queue}\tquorum", queues);

        var clock = Stopwatch.StartNew();
        var refused = await Assert.ThrowsAsync<VaultConfigurationException>(() => TestVault.StartAsync(amqp, queueType: "classic"));
        Assert.Contains("QueueType=classic", refused.Message);
        Assert.Contains("delete them", refused.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"told after {clock.Elapsed.TotalSeconds:F1} s");
    }
}
