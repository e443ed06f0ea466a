using System.Runtime.InteropServices;
using Vault.Ops;

using var cancel = new CancellationTokenSource();

// Ctrl-C and SIGTERM (systemd, containers, kill) stop the same way: 'vault serve' drains what it holds and exits 0.
// The token is cancelled off the signal's own thread, so nothing a cancellation callback throws can abort the process.
void Stop()
{
    _ = Task.Run(() =>
    {
        try
        {
            cancel.Cancel();
        }
        catch (Exception ex) when (ex is AggregateException or ObjectDisposedException)
        {
            // a callback failed while stopping, or the command had already finished: the command's own path reports
        }
    });
}

Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    Stop();
};
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, signal =>
{
    signal.Cancel = true;
    Stop();
});
var context = new CliContext(Console.Out, Console.Error, TimeProvider.System, Environment.GetEnvironmentVariable) { IsErrorTerminal = !Console.IsErrorRedirected, IsOutputTerminal = !Console.IsOutputRedirected };
return await VaultCli.RunAsync(args, context, cancel.Token);
