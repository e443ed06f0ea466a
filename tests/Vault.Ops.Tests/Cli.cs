using Microsoft.Data.Sqlite;

namespace Vault.Ops.Tests;

/// <summary>Runs the real 'vault' command line in-process, capturing what a person would see.</summary>
public sealed record CliRun(int ExitCode, string Output, string Error)
{
    public static async Task<CliRun> RunAsync(params string[] args) => await RunWithAsync(new Dictionary<string, string>(), args);

    public static Task<CliRun> RunWithAsync(IReadOnlyDictionary<string, string> environment, params string[] args) =>
        RunWithAsync(environment, TimeProvider.System, args);

    public static Task<CliRun> RunAtAsync(TimeProvider clock, params string[] args) => RunWithAsync(new Dictionary<string, string>(), clock, args);

    public static async Task<CliRun> RunWithAsync(IReadOnlyDictionary<string, string> environment, TimeProvider clock, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var context = new CliContext(output, error, clock, name => environment.TryGetValue(name, out var v) ? v : name == "XDG_CACHE_HOME" ? CacheHome : null);
        var code = await VaultCli.RunAsync(args, context);
        // The next command (or the test, behind the vault's back) finds the files as they are: this vault's pools only,
        // as other tests run in parallel in this process.
        if (Array.IndexOf(args, "--vault") is var at and >= 0 && at + 1 < args.Length)
            Vault.Storage.Sqlite.SqliteLogBackend.ReleasePools(System.IO.Path.Combine(args[at + 1], "log.db"));
        return new CliRun(code, output.ToString(), error.ToString());
    }

    /// <summary>Push's manifest cache goes here, never into the home directory of whoever runs the tests.</summary>
    private static readonly string CacheHome = Directory.CreateTempSubdirectory("vault-cli-cache-").FullName;

    /// <summary>No failure may show a person a stack trace.</summary>
    public void AssertNoStackTrace()
    {
        Assert.DoesNotContain("   at ", Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", Error, StringComparison.Ordinal);
    }
}

public sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("vault-cli-").FullName;

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
    }
}
