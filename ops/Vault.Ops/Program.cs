using Vault.Ops;

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};
var context = new CliContext(Console.Out, Console.Error, TimeProvider.System, Environment.GetEnvironmentVariable);
return await VaultCli.RunAsync(args, context, cancel.Token);
