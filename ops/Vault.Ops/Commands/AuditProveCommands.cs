using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using Vault.Core.Checkpoints;
using Vault.Storage.Log;
using Vault.Core.Errors;
using Vault.Services;

namespace Vault.Ops.Commands;

/// <summary>An inclusion or consistency proof as a file an auditor keeps and checks (docs/audit.md, "Proofs").</summary>
public sealed record ProofFile(
    [property: JsonPropertyName("format")] string Format,
    [property: JsonPropertyName("vaultId")] string VaultId,
    [property: JsonPropertyName("position")] long? Position = null,
    [property: JsonPropertyName("recordHash")] string? RecordHash = null,
    [property: JsonPropertyName("treeSize")] long? TreeSize = null,
    [property: JsonPropertyName("root")] string? Root = null,
    [property: JsonPropertyName("first")] long? First = null,
    [property: JsonPropertyName("firstRoot")] string? FirstRoot = null,
    [property: JsonPropertyName("second")] long? Second = null,
    [property: JsonPropertyName("secondRoot")] string? SecondRoot = null,
    [property: JsonPropertyName("path")] IReadOnlyList<string>? Path = null)
{
    public const string InclusionFormat = "vault-inclusion-proof/v1";
    public const string ConsistencyFormat = "vault-consistency-proof/v1";
}

/// <summary>
/// vault audit prove: an RFC 9162 proof that a record is in a checkpoint's tree, or that a later checkpoint's tree
/// extends an earlier one (history up to the earlier one was not rewritten). Roots come from the log's signed
/// checkpoints; the proof is computed from the log and checked against them before it is printed.
/// </summary>
public static class AuditProveCommand
{
    private static readonly Argument<long?> Position = new("POSITION") { Description = "The record to prove (its position in the log).", Arity = ArgumentArity.ZeroOrOne };
    private static readonly Option<long?> Checkpoint = new("--checkpoint") { Description = "The checkpoint of this position (its tree covers records 1..N); default: the first checkpoint that covers POSITION.", HelpName = "N" };
    private static readonly Option<long[]> Consistency = new("--consistency") { Description = "Prove that the checkpoint of position N2 extends the one of N1: --consistency N1 N2.", AllowMultipleArgumentsPerToken = true, Arity = new ArgumentArity(2, 2), HelpName = "N1 N2" };

    public static Command Create(CliContext context)
    {
        var command = new Command("prove", """
            Print an RFC 9162 proof, as JSON, against the log's signed checkpoints (docs/audit.md, "Proofs"):
              vault audit prove 1234                     record 1234 is in the first checkpoint covering it
              vault audit prove 1234 --checkpoint 20000  ... in the checkpoint of position 20000
              vault audit prove --consistency 10000 20000   the tree at 20000 extends the tree at 10000
            Check one with 'vault audit check-proof FILE' (or by hand, RFC 9162 §2.1.3.2 and §2.1.4.2), and compare
            its roots with checkpoint copies you hold. Exit 10 when the log disagrees with its own checkpoints.
            """)
        {
            Position, Checkpoint, Consistency,
        };
        command.SetAction((parse, ct) => RunAsync(parse, context, ct));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, CliContext context, CancellationToken ct)
    {
        try
        {
            return await ProveAsync(parse, context, ct);
        }
        catch (RewrittenException ex)
        {
            context.Error.WriteLine($"VIOLATION: {ex.Message}");
            return ExitCodes.IntegrityViolation;
        }
    }

    private static async Task<int> ProveAsync(ParseResult parse, CliContext context, CancellationToken ct)
    {
        var directory = GlobalOptions.VaultDirectory(parse, context);
        var (manifest, log) = await VaultOpener.OpenAsync(directory, GlobalOptions.PostgresConnection(parse, context), context.Clock, ct);
        await using (log)
        {
            var started = context.Clock.GetTimestamp();
            var checkpoints = new List<CheckpointRecorded>();
            await foreach (var r in log.ReadStreamAsync(CheckpointRecorded.Stream, 0, ct))
            {
                if (EventCodec.TryDecode(r) is (CheckpointRecorded c, null))
                    checkpoints.Add(c);
            }

            var proving = context.Clock.GetTimestamp();
            CheckpointRecorded Find(long size) => checkpoints.FirstOrDefault(c => c.Position == size)
                ?? throw new VaultConfigurationException($"There is no checkpoint of position {size}. Checkpoints: {string.Join(", ", checkpoints.Select(c => c.Position).TakeLast(10))}{(checkpoints.Count > 10 ? " (the last 10)" : "")}; 'vault log checkpoint' records one now.");

            var pair = parse.GetValue(Consistency);
            ProofFile proof;
            if (pair is { Length: 2 })
            {
                var (first, second) = (Find(pair[0]), Find(pair[1]));
                if (first.Position > second.Position)
                    throw new VaultConfigurationException($"--consistency takes the earlier checkpoint first: {first.Position} is after {second.Position}.");
                var roots = await CachedAsync(directory, log, second.Position, ct);
                var path = MerkleProofs.Consistency(roots, first.Position, second.Position);
                if (!MerkleProofs.VerifyConsistency(first.Position, second.Position, Convert.FromHexString(first.MerkleRoot), Convert.FromHexString(second.MerkleRoot), path))
                {
                    // The cache is not trusted: prove from every record, which also tells a rewritten log.
                    MerkleBlockCache.Delete(directory);
                    var hashes = await HashesAsync(log, second.Position, ct);
                    Agree(hashes, first);
                    Agree(hashes, second);
                    path = MerkleProofs.Consistency(hashes, first.Position, second.Position);
                }

                proof = new ProofFile(ProofFile.ConsistencyFormat, manifest.VaultId, First: first.Position, FirstRoot: first.MerkleRoot, Second: second.Position, SecondRoot: second.MerkleRoot,
                    Path: [.. path.Select(Convert.ToHexStringLower)]);
            }
            else
            {
                var position = parse.GetValue(Position) ?? throw new VaultConfigurationException("Name the record to prove (POSITION), or --consistency N1 N2.");
                var checkpoint = parse.GetValue(Checkpoint) is { } size ? Find(size)
                    : checkpoints.Where(c => c.Position >= position).MinBy(c => c.Position)
                      ?? throw new VaultConfigurationException($"No checkpoint covers record {position} yet; 'vault log checkpoint' records one now.");
                if (position < 1 || position > checkpoint.Position)
                    throw new VaultConfigurationException($"Record {position} is not in the checkpoint of position {checkpoint.Position} (it covers records 1 to {checkpoint.Position}).");
                var roots = await CachedAsync(directory, log, checkpoint.Position, ct);
                var path = MerkleProofs.Inclusion(roots, position - 1, checkpoint.Position);
                var recordHash = MerkleBlockCache.ReadHashes(log, position, 1, ct)[0];
                if (!MerkleProofs.VerifyInclusion(recordHash, position - 1, checkpoint.Position, path, Convert.FromHexString(checkpoint.MerkleRoot)))
                {
                    // The cache is not trusted: prove from every record, which also tells a rewritten log.
                    MerkleBlockCache.Delete(directory);
                    var hashes = await HashesAsync(log, checkpoint.Position, ct);
                    Agree(hashes, checkpoint);
                    path = MerkleProofs.Inclusion(hashes, position - 1, checkpoint.Position);
                    recordHash = hashes[(int)position - 1];
                }

                proof = new ProofFile(ProofFile.InclusionFormat, manifest.VaultId, Position: position, RecordHash: Convert.ToHexStringLower(recordHash),
                    TreeSize: checkpoint.Position, Root: checkpoint.MerkleRoot, Path: [.. path.Select(Convert.ToHexStringLower)]);
            }

            var proved = context.Clock.GetElapsedTime(proving);
            context.Output.WriteLine(JsonSerializer.Serialize(proof, new JsonSerializerOptions { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull }));
            context.Error.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"proof made and checked against the signed root in {proved.TotalMilliseconds:F1} ms ({context.Clock.GetElapsedTime(started).TotalMilliseconds:F1} ms with reading the checkpoints and writing it)"));
            return ExitCodes.Ok;
        }
    }

    private static async Task<BlockRoots> CachedAsync(string directory, Vault.Storage.IEventLog log, long size, CancellationToken ct) =>
        new(await MerkleBlockCache.LoadAsync(directory, log, size, ct), size, (from, count) => MerkleBlockCache.ReadHashes(log, from + 1, count, ct));

    private static async Task<List<byte[]>> HashesAsync(Vault.Storage.IEventLog log, long size, CancellationToken ct)
    {
        var hashes = new List<byte[]>((int)Math.Min(size, 1 << 24));
        await foreach (var r in log.ReadAllAsync(1, ct))
        {
            if (r.Position > size)
                break;
            hashes.Add(r.Hash);
        }

        return hashes.Count == size ? hashes : throw new StorageCorruptException($"The log holds {hashes.Count} records up to position {size}: records are missing. Run 'vault log verify'.");
    }

    private sealed class RewrittenException(string message) : Exception(message);

    /// <summary>The log must give the root its own checkpoint signed; if not, history was rewritten.</summary>
    private static void Agree(List<byte[]> hashes, CheckpointRecorded checkpoint)
    {
        var tree = new MerkleTree();
        for (var i = 0; i < checkpoint.Position; i++)
            tree.Append(hashes[i]);
        if (Convert.ToHexStringLower(tree.Root()) != checkpoint.MerkleRoot)
            throw new RewrittenException($"Records 1 to {checkpoint.Position} give Merkle root {Convert.ToHexStringLower(tree.Root())}, but the checkpoint of position {checkpoint.Position} signed {checkpoint.MerkleRoot}: history up to there was rewritten. Run 'vault log verify'.");
    }
}

/// <summary>vault audit check-proof FILE: verifies a proof file by RFC 9162, with nothing but the file.</summary>
public static class AuditCheckProofCommand
{
    private static readonly Argument<string> File = new("FILE") { Description = "A proof printed by 'vault audit prove' ('-' for standard input)." };

    public static Command Create(CliContext context)
    {
        var command = new Command("check-proof", """
            Verify a proof from 'vault audit prove' by RFC 9162 alone: no vault is opened. Exit 0 when it holds,
            10 when it does not. A proof that holds shows the record (or the older tree) is in the tree whose root
            it names; compare that root with a checkpoint copy you trust (a site root's checkpoint.json, a tape).

            Example:
              vault audit prove 1234 > proof.json && vault audit check-proof proof.json
            """)
        {
            File,
        };
        command.SetAction((parse, ct) => RunAsync(parse, context, ct));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, CliContext context, CancellationToken ct)
    {
        var path = parse.GetValue(File)!;
        ProofFile proof;
        try
        {
            var text = path == "-" ? await Console.In.ReadToEndAsync(ct) : await System.IO.File.ReadAllTextAsync(path, ct);
            proof = JsonSerializer.Deserialize<ProofFile>(text) ?? throw new JsonException("empty");
        }
        catch (Exception ex) when (ex is JsonException or FileNotFoundException or DirectoryNotFoundException)
        {
            throw new VaultConfigurationException($"{path} is not a proof file from 'vault audit prove' ({ex.Message}).");
        }

        byte[] Hex(string? value, string field) =>
            value is { Length: 64 } && value.All(Uri.IsHexDigit) ? Convert.FromHexString(value) : throw new VaultConfigurationException($"The proof's {field} is not 64 hex digits.");
        var steps = (proof.Path ?? []).Select((p, i) => Hex(p, $"path[{i}]")).ToList();
        var (holds, what) = proof.Format switch
        {
            ProofFile.InclusionFormat when proof is { Position: { } p, TreeSize: { } n } =>
                (MerkleProofs.VerifyInclusion(Hex(proof.RecordHash, "recordHash"), p - 1, n, steps, Hex(proof.Root, "root")), $"record {p} (hash {proof.RecordHash}) is in the tree of {n} records with root {proof.Root}"),
            ProofFile.ConsistencyFormat when proof is { First: { } m, Second: { } n } =>
                (MerkleProofs.VerifyConsistency(m, n, Hex(proof.FirstRoot, "firstRoot"), Hex(proof.SecondRoot, "secondRoot"), steps), $"the tree of {n} records (root {proof.SecondRoot}) extends the tree of {m} (root {proof.FirstRoot})"),
            _ => throw new VaultConfigurationException($"{path} is not an inclusion or consistency proof of this version (format '{proof.Format}')."),
        };
        context.Output.WriteLine(holds ? $"holds: {what}" : $"DOES NOT HOLD: the proof does not show that {what}");
        return holds ? ExitCodes.Ok : ExitCodes.IntegrityViolation;
    }
}
