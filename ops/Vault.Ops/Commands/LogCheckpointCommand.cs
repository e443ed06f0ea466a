using System.CommandLine;
using Vault.Services;

namespace Vault.Ops.Commands;

/// <summary>vault log checkpoint: append a signed checkpoint now, and optionally leave a copy of it somewhere else.</summary>
public static class LogCheckpointCommand
{
    private static readonly Option<FileInfo[]> CopyTo = new("--copy-to")
    {
        Description = "Also write the checkpoint copy (with the genesis it descends from) to this file; put it where the primary's credentials cannot reach. Repeatable.",
        HelpName = "FILE",
    };

    public static Command Create(CliContext context)
    {
        var command = new Command("checkpoint", """
            Append a checkpoint: the head position and hash, the record count and the Merkle root over every record
            hash (RFC 9162), signed with the vault's checkpoint key. 'vault rotation run' does this at every run and
            copies it into every medium and site root; 'vault serve' every N records or T time. A copy kept off the
            primary is what lets 'vault log verify --checkpoint FILE' catch a rewritten history (docs/checkpoints.md).

            Example:
              vault log checkpoint --copy-to /mnt/usb/vault-checkpoint.json
            """)
        { CopyTo };
        command.SetAction((parse, ct) => RunAsync(parse, context, ct));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, CliContext context, CancellationToken ct)
    {
        var directory = GlobalOptions.VaultDirectory(parse, context);
        var (manifest, log) = await VaultOpener.OpenAsync(directory, GlobalOptions.PostgresConnection(parse, context), context.Clock, ct);
        await using (log)
        {
            var checkpoint = await new Checkpointer(log, manifest.VaultId, VaultOpener.ReadCheckpointKey(directory), context.Clock).AppendAsync(ct);
            var copy = await Checkpointer.CopyAsync(log, ct);
            var written = new List<string>();
            foreach (var file in parse.GetValue(CopyTo) ?? [])
            {
                Checkpointer.WriteCopy(copy!, file.FullName);
                written.Add(file.FullName);
            }

            if (parse.GetValue(GlobalOptions.Json))
            {
                context.WriteJson(new { checkpoint = checkpoint.Signed(), copies = written });
            }
            else
            {
                context.Output.WriteLine($"checkpoint at {checkpoint.Position}:{checkpoint.Head}, {checkpoint.Count:N0} records, Merkle root {checkpoint.MerkleRoot}");
                foreach (var path in written)
                    context.Output.WriteLine($"copy written to {path}");
            }

            return ExitCodes.Ok;
        }
    }
}
