using System.Diagnostics;
using Vault.Services;

namespace Ingest.Service.Tests;

/// <summary>
/// 'vault serve' lives by the least privilege docs/wire-format.md names for it: an account made by
/// ops/rabbitmq-service.sh (configure, write, read on vault.ingest.* and vault.reply.* only) runs the service, which
/// stores a push and answers a hostile message, with nothing declared outside those names.
/// </summary>
public sealed class ServiceAccountTests
{
    [Fact]
    public async Task a_write_only_producer_and_the_least_privilege_service_push_and_restore_and_declare_nothing_outside_their_names()
    {
        var amqp = await TestBroker.NewVirtualHostAsync();
        var vhost = new Uri(amqp).AbsolutePath.Trim('/');
        await TestBroker.RunOpsScriptAsync("rabbitmq-service.sh", "svcacct-vault", "svc-pass", vhost);
        await TestBroker.RunOpsScriptAsync("rabbitmq-producer.sh", "svc-web01", "p1", vhost);
        var service = new UriBuilder(amqp) { UserName = "svcacct-vault", Password = "svc-pass" }.Uri.ToString();
        var producer = new UriBuilder(amqp) { UserName = "svc-web01", Password = "p1" }.Uri.ToString();
        await using var vault = await TestVault.StartAsync(producer, serviceAmqp: service, producerName: "svc-web01");
        Trees.Generate(vault.Sub("source"), seed: 21, bigFileBytes: 3 * 1024 * 1024);

        await vault.Pusher().PushTreeAsync(vault.Sub("source"), "svc-1", "web", "nightly", null, CancellationToken.None);
        await new SetRestorer(vault.Log, vault.Store).RestoreTreeAsync("svc-1", vault.Sub("restored"), null, CancellationToken.None);
        Trees.AssertSame(vault.Sub("source"), vault.Sub("restored"));

        // Nothing was declared but the ingest queues and exchanges, their _error queues and the producer's reply queue.
        var exchanges = (await TestBroker.RabbitMqCtlAsync("list_exchanges", "-p", vhost, "name")).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var queues = (await TestBroker.RabbitMqCtlAsync("list_queues", "-p", vhost, "name")).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.All(exchanges.Where(e => !e.StartsWith("amq.", StringComparison.Ordinal) && e is not ("" or "name" or "Listing exchanges for vhost " or "Timeout: 60.0 seconds ...") && !e.StartsWith("Listing", StringComparison.Ordinal)),
            e => Assert.Matches(@"^vault\.(ingest\.(open|segment|seal|query)(_error)?|reply\.svc-web01)$", e));
        Assert.All(queues.Where(q => q.StartsWith("vault", StringComparison.Ordinal) || q.Contains(':', StringComparison.Ordinal) || q.Contains('_', StringComparison.Ordinal) && !q.StartsWith("Timeout", StringComparison.Ordinal)),
            q => Assert.Matches(@"^vault\.(ingest\.(open|segment|seal|query)(_error)?|reply\.svc-web01)$", q));
    }

    /// <summary>
    /// An account without a permission it needs is reported as a refusal within seconds, naming what the broker said,
    /// not as an unreachable broker after the 30 s start timeout: a producer with no rights on the vhost, and the
    /// service run with a producer's account.
    /// </summary>
    [Fact]
    public async Task an_account_refused_a_permission_is_reported_as_a_refusal_at_once()
    {
        var amqp = await TestBroker.NewVirtualHostAsync();
        var vhost = new Uri(amqp).AbsolutePath.Trim('/');
        await TestBroker.RunOpsScriptAsync("rabbitmq-producer.sh", "svc-web02", "p2", vhost);
        await TestBroker.RabbitMqCtlAsync("add_user", "nobody-" + vhost, "p3");
        var producerAccount = new UriBuilder(amqp) { UserName = "svc-web02", Password = "p2" }.Uri.ToString();
        var noRights = new UriBuilder(amqp) { UserName = "nobody-" + vhost, Password = "p3" }.Uri.ToString();

        var started = Stopwatch.StartNew();
        var producer = await Assert.ThrowsAsync<Vault.Core.Errors.StorageRefusedException>(() =>
            IngestHost.StartAsync(new IngestHostOptions { Amqp = noRights, Producer = "web03" }));
        var producerSeconds = started.Elapsed.TotalSeconds;
        started.Restart();
        var directory = Directory.CreateTempSubdirectory("vault-svc-refused-").FullName;
        await using var log = new Vault.Storage.Log.GroupCommitEventLog(await Vault.Storage.Sqlite.SqliteLogBackend.OpenAsync(Path.Combine(directory, "log.db"), create: true));
        var service = await Assert.ThrowsAsync<Vault.Core.Errors.StorageRefusedException>(() =>
            IngestHost.StartAsync(new IngestHostOptions { Amqp = producerAccount, Vault = (log, new Vault.Storage.Segments.FileSegmentStore(Path.Combine(directory, "segments"))) }));
        var serviceSeconds = started.Elapsed.TotalSeconds;

        Assert.True(producerSeconds < 20 && serviceSeconds < 20, $"reported after {producerSeconds:F0} s and {serviceSeconds:F0} s");
        Assert.Contains("refused this producer", producer.Message);
        Assert.Contains("refused this account a permission it needs", service.Message);
        Assert.Contains("ACCESS_REFUSED", service.Message);
        Assert.Contains("ops/rabbitmq-service.sh", service.Message);
        Assert.DoesNotContain("p2", service.Message.Replace("svc-web02", "", StringComparison.Ordinal));
    }
}
