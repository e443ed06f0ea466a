using System.Diagnostics;

namespace Ingest.Service.Tests;

/// <summary>The real RabbitMQ started by ops/services.sh. Each test gets a virtual host of its own, so tests never consume each other's messages.</summary>
public static class TestBroker
{
    public static string BaseUri => Environment.GetEnvironmentVariable("VAULT_TEST_AMQP") is { Length: > 0 } uri
        ? uri
        : throw new InvalidOperationException("VAULT_TEST_AMQP is not set, so the RabbitMQ tests cannot run. Run the tests with ops/test.sh (README).");

    public static async Task<string> NewVirtualHostAsync()
    {
        var vhost = "t-" + Guid.NewGuid().ToString("N")[..12];
        await RabbitMqCtlAsync("add_vhost", vhost);
        await RabbitMqCtlAsync("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*");
        return new Uri(new Uri(BaseUri), vhost).ToString();
    }

    public static Task<string> RabbitMqCtlAsync(params string[] args) => ServicesAsync(["rabbitmqctl", .. args]);

    /// <summary>Runs ops/services.sh with these arguments (rabbitmqctl …, pg-restart).</summary>
    public static async Task<string> ServicesAsync(params string[] args)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(RepoRoot(), "ops", "services.sh"));
        foreach (var a in args)
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"ops/services.sh {string.Join(' ', args)} failed: {await error}");
        return await output;
    }

    /// <summary>Runs one of the project's ops/ scripts (ops/rabbitmq-producer.sh, ops/rabbitmq-service.sh) against the test broker.</summary>
    public static async Task RunOpsScriptAsync(string script, params string[] args)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(Path.Combine(RepoRoot(), "ops", script));
        foreach (var a in args)
            start.ArgumentList.Add(a);
        start.Environment["RABBITMQCTL"] = $"bash {Path.Combine(RepoRoot(), "ops", "services.sh")} rabbitmqctl";
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"ops/{script} {string.Join(' ', args)} failed: {await error}");
    }

    public static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Vault.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Vault.sln not found above the test directory.");
    }
}
