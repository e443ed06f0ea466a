using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Vault.Ops.Tests;

/// <summary>
/// A site custodian as an operator runs it: 'vault site init' once, then 'vault site serve' as its own process on
/// loopback (port 0, the port read from what it prints). Kill stops it like a power cut; Start again reopens the root.
/// </summary>
public sealed partial class CustodianProcess : IAsyncDisposable
{
    private Process? _process;
    private readonly System.Text.StringBuilder _stderr = new();

    public string Site { get; }
    public string Root { get; }
    public string TokenFile { get; }
    public string Url { get; private set; } = "";
    public string Token => File.ReadAllText(TokenFile).Trim();

    private CustodianProcess(string site, string root, string tokenFile)
    {
        Site = site;
        Root = root;
        TokenFile = tokenFile;
    }

    public static async Task<CustodianProcess> InitAndStartAsync(string site, string root, string tokenFile, int port = 0)
    {
        var init = await CliRun.RunAsync("site", "init", "--site", site, "--root", root, "--token-file", tokenFile);
        Assert.True(init.ExitCode == 0, init.Error);
        var custodian = new CustodianProcess(site, root, tokenFile);
        await custodian.StartAsync(port);
        return custodian;
    }

    /// <summary>Starts 'vault site serve' (again: on the same port when it had one, so the policy's url stays right).</summary>
    public async Task StartAsync(int port = 0)
    {
        if (Url.Length > 0)
            port = new Uri(Url).Port;
        var info = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "vault.dll"), "site", "serve", "--site", Site, "--root", Root, "--listen", $"http://127.0.0.1:{port}" })
            info.ArgumentList.Add(arg);
        _process = Process.Start(info)!;
        var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                listening.TrySetException(new InvalidOperationException($"the custodian exited: {_stderr}"));
                return;
            }

            lock (_stderr)
                _stderr.AppendLine(e.Data);
            if (Listening().Match(e.Data) is { Success: true } m)
                listening.TrySetResult(m.Groups[1].Value);
        };
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
        Url = await listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
    }

    public string Stderr
    {
        get
        {
            lock (_stderr)
                return _stderr.ToString();
        }
    }

    /// <summary>SIGKILL: no drain, no cleanup; what it had half-received is left on its disk.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    /// <summary>SIGTERM, as systemd stops it; returns its exit code.</summary>
    public async Task<int> TerminateAsync()
    {
        using var kill = Process.Start("kill", ["-TERM", _process!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return _process.ExitCode;
    }

    public HttpClient Client(string? token = null)
    {
        var http = new HttpClient { BaseAddress = new Uri(Url.TrimEnd('/') + "/") };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token ?? Token);
        return http;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
    }

    [GeneratedRegex(@"listening on (http://[0-9.:]+)")]
    private static partial Regex Listening();
}
