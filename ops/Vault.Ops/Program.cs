using System.Runtime.InteropServices;
using Vault.Ops;

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

// SIGTERM (systemd, containers, kill) stops the same way as Ctrl-C: 'vault serve' drains what it holds and exits 0.
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, signal =>
{
    signal.Cancel = true;
    cancel.Cancel();
});
var context = new CliContext(Console.Out, Console.Error, TimeProvider.System, Environment.GetEnvironmentVariable);
return await VaultCli.RunAsync(args, context, cancel.Token);
