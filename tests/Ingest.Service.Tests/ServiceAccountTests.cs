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
    public async Task the_service_runs_with_exactly_the_documented_account_and_declares_nothing_outside_its_names()
    {
        var amqp = await TestBroker.NewVirtualHostAsync();
        var vhost = new Uri(amqp).AbsolutePath.Trim('/');
        await RunScriptAsync("rabbitmq-service.sh", "vault-svc", "svc-pass", vhost);
        var service = new UriBuilder(amqp) { UserName = "vault-svc", Password = "svc-pass" }.Uri.ToString();
        await using var vault = await TestVault.StartAsync(amqp, serviceAmqp: service);
        Trees.Generate(vault.Sub("source"), seed: 21, bigFileBytes: 3 * 1024 * 1024);

        await vault.Pusher().PushTreeAsync(vault.Sub("source"), "svc-1", "web", "nightly", null, CancellationToken.None);
        await new SetRestorer(vault.Log, vault.Store).RestoreTreeAsync("svc-1", vault.Sub("restored"), null, CancellationToken.None);
        Trees.AssertSame(vault.Sub("source"), vault.Sub("restored"));

        var permissions = await TestBroker.RabbitMqCtlAsync("list_user_permissions", "vault-svc");
        Assert.Contains("vault\\.(ingest|reply)\\..*", permissions);
        // Everything the service declared, it could only declare under its names (the broker would have refused the rest).
        var exchanges = await TestBroker.RabbitMqCtlAsync("list_exchanges", "-p", vhost, "name");
        foreach (var type in new[] { "OpenSet", "PutSegment", "SealSet", "QuerySegments" })
            Assert.DoesNotContain($"Ingest.Contracts:{type}", exchanges);
    }

    /// <summary>
    /// An account without a permission the bus needs is reported as a refusal within seconds, naming the permission,
    /// not as an unreachable broker after the 30 s start timeout. (The MassTransit producer still needs more than the
    /// write-only producer account: this is what a user running 'vault push --amqp' with one sees.)
    /// </summary>
    [Fact]
    public async Task an_account_refused_a_permission_is_reported_as_a_refusal_at_once()
    {
        var amqp = await TestBroker.NewVirtualHostAsync();
        var vhost = new Uri(amqp).AbsolutePath.Trim('/');
        await RunScriptAsync("rabbitmq-producer.sh", "web02", "p2", vhost);
        var producer = new UriBuilder(amqp) { UserName = "web02", Password = "p2" }.Uri.ToString();

        var started = Stopwatch.StartNew();
        var refused = await Assert.ThrowsAsync<Vault.Core.Errors.StorageRefusedException>(() =>
            IngestHost.StartAsync(new IngestHostOptions { Amqp = producer, Producer = "web02" }));

        Assert.True(started.Elapsed < TimeSpan.FromSeconds(20), $"reported after {started.Elapsed.TotalSeconds:F0} s");
        Assert.Contains("refused this account a permission it needs", refused.Message);
        Assert.Contains("ACCESS_REFUSED", refused.Message);
        Assert.DoesNotContain("p2", refused.Message.Replace("web02", "", StringComparison.Ordinal));
    }

    private static async Task RunScriptAsync(string script, params string[] args)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(Path.Combine(TestBroker.RepoRoot(), "ops", script));
        foreach (var a in args)
            start.ArgumentList.Add(a);
        start.Environment["RABBITMQCTL"] = $"bash {Path.Combine(TestBroker.RepoRoot(), "ops", "services.sh")} rabbitmqctl";
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, await error);
    }
}
