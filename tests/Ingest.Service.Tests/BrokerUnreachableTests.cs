using System.Net;
using System.Net.Sockets;
using Vault.Core.Errors;

namespace Ingest.Service.Tests;

/// <summary>MassTransit alone retries an unreachable broker for ever; a push must instead fail with a clear sentence.</summary>
public sealed class BrokerUnreachableTests
{
    [Fact]
    public async Task a_broker_that_cannot_be_reached_is_a_clear_error_in_bounded_time_and_names_no_password()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // a port nobody listens on now

        var start = IngestHost.StartAsync(new IngestHostOptions { Amqp = $"amqp://producer:s3cret@127.0.0.1:{port}/", Producer = "p", StartTimeout = TimeSpan.FromSeconds(2) });
        var ex = await Assert.ThrowsAsync<StorageUnavailableException>(() => start.WaitAsync(TimeSpan.FromSeconds(60)));

        Assert.StartsWith($"Could not reach the message broker at amqp://producer@127.0.0.1:{port}/ within 2 s (", ex.Message, StringComparison.Ordinal);
        Assert.Contains("--amqp", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A broker where no service ever declared the ingest exchanges closes the producer's channel (404), not its
    /// connection: a clear error at once, not a wait for a reconnection that never comes (a publish is sent again only
    /// when the connection itself went down and came back).
    /// </summary>
    [Fact]
    public async Task a_broker_no_service_ever_served_is_a_clear_error_without_waiting_for_a_reconnection()
    {
        var amqp = await TestBroker.NewVirtualHostAsync();
        await using var producer = await IngestHost.StartAsync(new IngestHostOptions { Amqp = amqp, Producer = "early", StartTimeout = TimeSpan.FromMinutes(10) });

        var open = producer.Client!.OpenAsync(new Contracts.OpenSet { SetId = "s1", Source = "web", Name = "n", Kind = "tree" }, CancellationToken.None);

        var error = await Assert.ThrowsAsync<StorageUnavailableException>(() => open.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("'vault serve' has not run against this broker and vhost yet", error.Message, StringComparison.Ordinal);
    }
}
