using System.Text.Json;

namespace Vault.Ops.Tests;

/// <summary>vault push / restore / sets on embedded defaults: the README's main job, and its bad inputs.</summary>
public sealed class PushRestoreCliTests : IDisposable
{
    private readonly TempDir _temp = new();

    public void Dispose() => _temp.Dispose();

    private async Task<string> VaultAsync()
    {
        var keys = await TestApprovers.CreateAsync(_temp.Sub("keys"), "alice", "bob");
        var vault = _temp.Sub("vault");
        Assert.Equal(0, (await keys.InitAsync(vault)).ExitCode);
        return vault;
    }

    private string Source()
    {
        var source = _temp.Sub("source");
        Directory.CreateDirectory(Path.Combine(source, "a", "b"));
        File.WriteAllText(Path.Combine(source, "a", "b", "c.txt"), "hello vault\n");
        var bytes = new byte[3_000_000];
        new Random(1).NextBytes(bytes);
        File.WriteAllBytes(Path.Combine(source, "blob.bin"), bytes);
        File.WriteAllBytes(Path.Combine(source, "empty"), []);
        return source;
    }

    [Fact]
    public async Task push_then_restore_gives_back_the_same_tree_and_the_set_is_listed_as_sealed()
    {
        var vault = await VaultAsync();
        var source = Source();

        var push = await CliRun.RunAsync("push", source, "--set", "night-1", "--source", "host1", "--vault", vault, "--json");
        var restore = await CliRun.RunAsync("restore", "night-1", "--to", _temp.Sub("out"), "--vault", vault);
        var list = await CliRun.RunAsync("sets", "list", "--vault", vault, "--json");

        Assert.True(push.ExitCode == 0, push.Error);
        var summary = JsonDocument.Parse(push.Output).RootElement;
        Assert.Equal(3_000_012, summary.GetProperty("bytesRead").GetInt64());
        Assert.True(restore.ExitCode == 0, restore.Error);
        Assert.Equal(File.ReadAllBytes(Path.Combine(source, "blob.bin")), File.ReadAllBytes(Path.Combine(_temp.Sub("out"), "blob.bin")));
        Assert.Equal("hello vault\n", File.ReadAllText(Path.Combine(_temp.Sub("out"), "a", "b", "c.txt")));
        Assert.Equal(0, new FileInfo(Path.Combine(_temp.Sub("out"), "empty")).Length);
        Assert.Equal("sealed", JsonDocument.Parse(list.Output).RootElement[0].GetProperty("state").GetString());
        Assert.Equal(0, (await CliRun.RunAsync("log", "verify", "--vault", vault)).ExitCode);
    }

    [Fact]
    public async Task pushing_a_path_that_is_not_a_directory_exits_2_and_leaves_no_set()
    {
        var vault = await VaultAsync();

        var run = await CliRun.RunAsync("push", _temp.Sub("nothing-here"), "--set", "night-1", "--source", "host1", "--vault", vault);
        var list = await CliRun.RunAsync("sets", "list", "--vault", vault, "--json");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("is not a directory", run.Error);
        Assert.Equal(0, JsonDocument.Parse(list.Output).RootElement.GetArrayLength());
        run.AssertNoStackTrace();
    }

    [Fact]
    public async Task a_bad_path_is_reported_at_once_even_while_the_broker_cannot_be_reached()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nobody listens there: the bus would keep trying for 30 s

        var run = await CliRun.RunAsync("push", _temp.Sub("nothing-here"), "--set", "night-1", "--source", "host1", "--amqp", $"amqp://guest:guest@127.0.0.1:{port}/")
            .WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("is not a directory", run.Error);
        run.AssertNoStackTrace();
    }

    [Theory]
    [InlineData("push", "--amqp", "", "it is empty")]
    [InlineData("push", "--amqp", "rabbit-host", "it is not a URI")]
    [InlineData("push", "--amqp", "http://producer:s3cret@mq/vault", "its scheme is 'http'")]
    [InlineData("push", "--amqp", "amqp://producer:s3cret@mq:99999/vault", "it is not a URI")]
    [InlineData("push", "--amqp", "amqp:///vault", "it names no host")]
    [InlineData("push", "VAULT_AMQP", "amqp://producer:s3cret@mq:port/vault", "it is not a URI")]
    [InlineData("serve", "--amqp", "amqps//producer:s3cret@mq/vault", "it is not a URI")]
    public async Task a_broker_address_that_is_not_one_exits_2_saying_what_is_wrong_without_repeating_its_password(string verb, string where, string value, string problem)
    {
        var vault = await VaultAsync();
        string[] args = verb == "push" ? ["push", Source(), "--set", "night-1", "--source", "host1", "--vault", vault] : ["serve", "--vault", vault];
        var environment = new Dictionary<string, string>();
        if (where == "VAULT_AMQP")
            environment[where] = value;
        else
            args = [.. args, where, value];

        var run = await CliRun.RunWithAsync(environment, args).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2, run.ExitCode);
        Assert.Contains($"takes a RabbitMQ URI such as amqp://producer:secret@mq:5672/vault, but {problem}", run.Error);
        Assert.StartsWith(where == "VAULT_AMQP" ? "vault: VAULT_AMQP" : verb == "push" ? "vault: --amqp" : "vault: Amqp (--amqp)", run.Error);
        Assert.DoesNotContain("s3cret", run.Error);
        run.AssertNoStackTrace();
    }

    [Fact]
    public async Task a_second_push_with_the_same_set_id_is_refused()
    {
        var vault = await VaultAsync();
        var source = Source();
        await CliRun.RunAsync("push", source, "--set", "night-1", "--source", "host1", "--vault", vault);

        var again = await CliRun.RunAsync("push", source, "--set", "night-1", "--source", "host1", "--vault", vault);

        Assert.Equal(7, again.ExitCode);
        Assert.Contains("set-exists", again.Error);
    }

    [Fact]
    public async Task restoring_an_unknown_set_exits_3_and_into_a_non_empty_directory_exits_2()
    {
        var vault = await VaultAsync();
        await CliRun.RunAsync("push", Source(), "--set", "night-1", "--source", "host1", "--vault", vault);
        Directory.CreateDirectory(_temp.Sub("busy"));
        File.WriteAllText(Path.Combine(_temp.Sub("busy"), "keep.txt"), "mine");

        var unknown = await CliRun.RunAsync("restore", "night-9", "--to", _temp.Sub("out"), "--vault", vault);
        var busy = await CliRun.RunAsync("restore", "night-1", "--to", _temp.Sub("busy"), "--vault", vault);

        Assert.Equal(3, unknown.ExitCode);
        Assert.Equal(2, busy.ExitCode);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(_temp.Sub("busy"), "keep.txt")));
    }
}
