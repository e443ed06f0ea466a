using Ingest.Client;
using Vault.Services;

namespace Ingest.Service.Tests;

/// <summary>Restarting the broker disturbs every test using it, so this class runs alone, after the others.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BrokerRestartCollection
{
    public const string Name = "broker restart";
}

/// <summary>
/// RabbitMQ, or the PostgreSQL holding the log, restarts in the middle of a push: the push completes, or fails with a
/// clear error and the same push run again completes; nothing is lost or doubled, the log verifies, every set restores
/// byte-exact. The suite restarts each once; ops/campaign-restarts.sh restarts each ten times
/// (VAULT_CAMPAIGN_RESTARTS, VAULT_CAMPAIGN_REPORT).
/// </summary>
[Collection(BrokerRestartCollection.Name)]
public sealed class BrokerRestartTests
{
    private static int Restarts => int.TryParse(Environment.GetEnvironmentVariable("VAULT_CAMPAIGN_RESTARTS"), out var n) ? n : 1;

    [Fact]
    public async Task a_push_survives_broker_restarts_or_a_rerun_of_the_same_push_completes_it() =>
        await CampaignAsync("RabbitMQ", postgres: false, async () =>
        {
            await TestBroker.RabbitMqCtlAsync("stop_app");
            await TestBroker.RabbitMqCtlAsync("start_app");
            await TestBroker.RabbitMqCtlAsync("await_startup");
        });

    [Fact]
    public async Task a_push_survives_postgres_restarts_under_the_log_or_a_rerun_of_the_same_push_completes_it() =>
        await CampaignAsync("PostgreSQL", postgres: true, () => TestBroker.ServicesAsync("pg-restart"));

    /// <summary>
    /// A segment travels transient: one the broker held when it restarted, before the service took it, is gone. The
    /// push holds it until answered and sends it again once its connection is back; the vault stores and records it
    /// once. Without the second send the push would wait for an answer that never comes (the reply timeout).
    /// </summary>
    [Fact]
    public async Task a_segment_the_broker_lost_in_a_restart_is_sent_again_and_recorded_once()
    {
        var amqp = await TestBroker.NewVirtualHostAsync();
        await using var vault = await TestVault.StartAsync(amqp);
        await using var producer = await IngestHost.StartAsync(new IngestHostOptions { Amqp = amqp, Producer = "lost", ReplyTimeout = TimeSpan.FromSeconds(90) });
        var client = producer.Client!;
        await client.OpenAsync(new Contracts.OpenSet { SetId = "lost-1", Source = "web", Name = "n", Kind = "tree" }, CancellationToken.None);
        await vault.StopServiceAsync();
        var data = System.Security.Cryptography.RandomNumberGenerator.GetBytes(64 * 1024);
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(data));
        var put = client.PutAsync(new Contracts.PutSegment { SetId = "lost-1", Sequence = 0, Sha256 = hash, Length = data.Length, Encoding = "identity", Data = data }, CancellationToken.None);
        Assert.Equal(1u, await MessagesAsync(amqp, Contracts.IngestQueues.PutSegment, atLeast: 1)); // confirmed, waiting for a consumer

        await TestBroker.RabbitMqCtlAsync("stop_app");
        await TestBroker.RabbitMqCtlAsync("start_app");
        await TestBroker.RabbitMqCtlAsync("await_startup");
        await vault.StartServiceAsync();

        var reply = await put.WaitAsync(TimeSpan.FromSeconds(80));
        Assert.Equal(Contracts.IngestReply.SegmentAcceptedType, reply.Type);
        Assert.Equal(hash, (await new BackupSets(vault.Log).SegmentAsync("lost-1", 0))!.Hash);
        Assert.True(await vault.Store.ContainsAsync(Vault.Core.Segments.SegmentHash.Parse(hash)));
        var recorded = 0;
        await foreach (var r in vault.Log.ReadAllAsync())
        {
            if (r.EventType == Vault.Core.Sets.SegmentStored.EventType)
                recorded++;
        }

        Assert.Equal(1, recorded);
    }

    /// <summary>The messages in a queue, once there are at least <paramref name="atLeast"/> (waiting up to 30 s).</summary>
    private static async Task<uint> MessagesAsync(string amqp, string queue, uint atLeast)
    {
        await using var connection = await new RabbitMQ.Client.ConnectionFactory { Uri = new Uri(amqp) }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        for (var attempt = 0; ; attempt++)
        {
            var count = (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
            if (count >= atLeast || attempt == 300)
                return count;
            await Task.Delay(100);
        }
    }

    private static async Task CampaignAsync(string what, bool postgres, Func<Task> restart)
    {
        var amqp = await TestBroker.NewVirtualHostAsync();
        await using var vault = await TestVault.StartAsync(amqp, postgres: postgres);
        int completed = 0, reruns = 0;
        var reasons = new List<string>();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < Restarts; i++)
        {
            Trees.Generate(vault.Sub($"source-{i}"), seed: 9 + i, bigFileBytes: 40 * 1024 * 1024);
            var sent = 0L;
            var progress = new Progress<PushProgress>(p => Interlocked.Exchange(ref sent, p.SegmentsSent));
            Exception? failure = null;
            await using (var producer = await IngestHost.StartAsync(new IngestHostOptions { Amqp = amqp, Producer = $"restart-{i}", ReplyTimeout = TimeSpan.FromSeconds(30) }))
            {
                var push = Task.Run(() => new Pusher(producer.Client!, TimeProvider.System, new PushOptions { Window = 4 })
                    .PushTreeAsync(vault.Sub($"source-{i}"), $"night-{i}", "web", "nightly", progress, CancellationToken.None));
                while (Interlocked.Read(ref sent) < 4 && !push.IsCompleted)
                    await Task.Delay(20);

                await restart();
                try
                {
                    await push.WaitAsync(TimeSpan.FromMinutes(3));
                    completed++;
                }
                catch (Exception ex) when (ex is Vault.Core.Errors.VaultException or MassTransit.MassTransitException or OperationCanceledException)
                {
                    failure = ex; // allowed, if the message says what happened and a rerun completes
                }
            }

            if (failure is not null)
            {
                Assert.False(string.IsNullOrWhiteSpace(failure.Message));
                reasons.Add(failure.Message.Length > 160 ? failure.Message[..160] + "…" : failure.Message);
                reruns++;
                await using var again = await IngestHost.StartAsync(new IngestHostOptions { Amqp = amqp, Producer = $"restart-{i}-again" });
                await new Pusher(again.Client!, TimeProvider.System).PushTreeAsync(vault.Sub($"source-{i}"), $"night-{i}", "web", "nightly", null, CancellationToken.None);
            }
        }

        var segments = new List<string>();
        await foreach (var r in vault.Log.ReadAllAsync())
        {
            if (r.EventType == Vault.Core.Sets.SegmentStored.EventType)
                segments.Add(r.StreamId);
        }

        for (var i = 0; i < Restarts; i++)
        {
            await new SetRestorer(vault.Log, vault.Store).RestoreTreeAsync($"night-{i}", vault.Sub($"restored-{i}"), null, CancellationToken.None);
            Trees.AssertSame(vault.Sub($"source-{i}"), vault.Sub($"restored-{i}"));
        }

        var intact = (await Vault.Storage.Log.LogVerifier.VerifyAsync(vault.Log)).Intact;
        var report = $"{what} restarts: {Restarts} restarts mid-push in {watch.Elapsed.TotalSeconds:F0} s: {completed} pushes completed on their own, {reruns} ended with a clear error and completed on rerun; "
            + $"{segments.Count} segment events, {segments.Count - segments.Distinct().Count()} doubled; log intact: {intact}; {Restarts} of {Restarts} sets restored byte-exact"
            + (reasons.Count > 0 ? $"; the errors said: {string.Join(" | ", reasons.Distinct().Take(3))}" : "");
        if (Environment.GetEnvironmentVariable("VAULT_CAMPAIGN_REPORT") is { Length: > 0 } file)
            await File.AppendAllTextAsync(file, report + Environment.NewLine);
        Assert.True(intact);
        Assert.Equal(segments.Count, segments.Distinct().Count());
    }
}
