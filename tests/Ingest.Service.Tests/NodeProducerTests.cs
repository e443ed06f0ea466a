using System.Diagnostics;
using Vault.Services;

namespace Ingest.Service.Tests;

/// <summary>A producer written in JavaScript with a plain AMQP client (tests/node-producer) pushes a set that restores byte-exact.</summary>
public sealed class NodeProducerTests
{
    [Fact]
    public async Task a_node_producer_following_the_wire_format_pushes_a_set_that_restores_exactly()
    {
        var amqp = await TestBroker.NewVirtualHostAsync();
        await using var vault = await TestVault.StartAsync(amqp);
        var data = new byte[3 * 1024 * 1024 + 4321];
        new Random(5).NextBytes(data);
        await File.WriteAllBytesAsync(vault.Sub("input.bin"), data);

        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(TestBroker.RepoRoot(), "tests", "node-producer", "producer.js"));
        start.ArgumentList.Add(amqp);
        start.ArgumentList.Add("node-set-1");
        start.ArgumentList.Add(vault.Sub("input.bin"));
        using var node = Process.Start(start)!;
        var output = node.StandardOutput.ReadToEndAsync();
        var error = node.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await node.WaitForExitAsync(timeout.Token);

        Assert.True(node.ExitCode == 0, $"node producer failed: {await error} {await output} (run 'npm ci' in tests/node-producer; ops/test.sh does)");
        var restored = new MemoryStream();
        await new SetRestorer(vault.Log, vault.Store).RestoreStreamAsync("node-set-1", restored, CancellationToken.None);
        Assert.Equal(data, restored.ToArray());
    }
}
