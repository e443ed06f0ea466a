using Ingest.Client;
using Vault.Services;

namespace Ingest.Service.Tests;

/// <summary>Restarting the broker disturbs every test using it, so this class runs alone, after the others.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BrokerRestartCollection
{
    public const string Name = "broker restart";
}

/// <summary>RabbitMQ restarts in the middle of a push: the push completes, or fails with a clear error and the same push run again completes.</summary>
[Collection(BrokerRestartCollection.Name)]
public sealed class BrokerRestartTests
{
    [Fact]
    public async Task a_push_survives_a_broker_restart_or_a_rerun_of_the_same_push_completes_it()
    {
        var amqp = await TestBroker.NewVirtualHostAsync();
        await using var vault = await TestVault.StartAsync(amqp);
        Trees.Generate(vault.Sub("source"), seed: 9, bigFileBytes: 60 * 1024 * 1024);
        var sent = 0L;
        var progress = new Progress<PushProgress>(p => Interlocked.Exchange(ref sent, p.SegmentsSent));

        Exception? failure = null;
        await using (var producer = await IngestHost.StartAsync(new IngestHostOptions { Amqp = amqp, Producer = "restart", ReplyTimeout = TimeSpan.FromSeconds(30) }))
        {
            var push = Task.Run(() => new Pusher(producer.Client!, TimeProvider.System, new PushOptions { Window = 4 })
                .PushTreeAsync(vault.Sub("source"), "night-1", "web", "nightly", progress, CancellationToken.None));
            while (Interlocked.Read(ref sent) < 6 && !push.IsCompleted)
                await Task.Delay(20);

            await TestBroker.RabbitMqCtlAsync("stop_app");
            await TestBroker.RabbitMqCtlAsync("start_app");
            await TestBroker.RabbitMqCtlAsync("await_startup");
            try
            {
                await push.WaitAsync(TimeSpan.FromMinutes(3));
            }
            catch (Exception ex) when (ex is Vault.Core.Errors.VaultException or MassTransit.MassTransitException or OperationCanceledException)
            {
                failure = ex; // allowed, if the message says what happened and a rerun completes
            }
        }

        if (failure is not null)
        {
            Assert.False(string.IsNullOrWhiteSpace(failure.Message));
            await using var again = await IngestHost.StartAsync(new IngestHostOptions { Amqp = amqp, Producer = "restart-2" });
            await new Pusher(again.Client!, TimeProvider.System).PushTreeAsync(vault.Sub("source"), "night-1", "web", "nightly", null, CancellationToken.None);
        }

        await new SetRestorer(vault.Log, vault.Store).RestoreTreeAsync("night-1", vault.Sub("restored"), null, CancellationToken.None);
        Trees.AssertSame(vault.Sub("source"), vault.Sub("restored"));
    }
}
