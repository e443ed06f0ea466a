using System.CommandLine;

namespace Vault.Ops.Commands;

/// <summary>vault log: look at and verify the tamper-evident log.</summary>
public static class LogCommands
{
    public static Command Create(CliContext context) => new("log", "Read and verify the vault's append-only, hash-chained log.")
    {
        LogTailCommand.Create(context),
        LogVerifyCommand.Create(context),
        LogCheckpointCommand.Create(context),
    };
}
