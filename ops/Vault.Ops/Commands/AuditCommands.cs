using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Vault.Core.Checkpoints;
using Vault.Core.Log;
using Vault.Storage.Log;

namespace Vault.Ops.Commands;

/// <summary>vault audit: what an auditor takes away to check without the vault's code (docs/audit.md).</summary>
public static class AuditCommands
{
    public static Command Create(CliContext context) => new("audit", "Take the log's history away to re-verify it with no code of ours (docs/audit.md).")
    {
        AuditExportCommand.Create(context),
        AuditProveCommand.Create(context),
        AuditCheckProofCommand.Create(context),
        AuditRequestsCommand.Create(context),
        AuditReplayCommand.CreateReplay(context),
        AuditReplayCommand.CreateDiff(context),
    };
}

/// <summary>
/// vault audit export: the log as JSON lines, each record with the exact bytes that were hashed (payload and
/// metadata base64, as stored) and its hash fields, so chain, Merkle roots and checkpoint signatures can be
/// re-verified byte for byte (docs/audit.md, with a worked example and a Python check using the standard library).
/// </summary>
public static class AuditExportCommand
{
    public const string Format = "vault-audit-export/v1";

    private static readonly Option<long> From = new("--from") { Description = "First position to export (default 1).", DefaultValueFactory = _ => 1, HelpName = "POSITION" };
    private static readonly Option<long?> To = new("--to") { Description = "Last position to export (default: the head when the export starts).", HelpName = "POSITION" };
    private static readonly Option<string> Out = new("--out") { Description = "Write to this file (written whole, then renamed into place) instead of standard output.", HelpName = "FILE" };

    public static Command Create(CliContext context)
    {
        From.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<long>() < 1)
                r.AddError("--from must be 1 or more.");
        });
        var command = new Command("export", """
            Export the log, record by record, as JSON lines an outside auditor can re-verify without the vault:
            a header line (format, vault id, genesis hash, range), then one line per record with the exact bytes
            that were hashed (payload and metadata in base64, as stored) and its previous hash and hash, then an end
            line with the head and, for an export from position 1, the RFC 9162 Merkle root over the records.
            Checkpoint records (signed, with their Merkle roots) are records like any other. docs/audit.md shows how
            to check chain, roots and signatures with Python's standard library and openssl.

            Examples:
              vault audit export --out /media/auditor/vault-2026-12.jsonl
              vault audit export --from 1000 --to 2000 | python3 ops/audit-verify.py --from-middle
            """)
        {
            From, To, Out,
        };
        command.SetAction((parse, ct) => RunAsync(parse, context, ct));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, CliContext context, CancellationToken ct)
    {
        var (manifest, log) = await VaultOpener.OpenAsync(GlobalOptions.VaultDirectory(parse, context), GlobalOptions.PostgresConnection(parse, context), context.Clock, ct);
        await using (log)
        {
            var head = await log.ReadHeadAsync(ct);
            var from = parse.GetValue(From);
            var to = Math.Min(parse.GetValue(To) ?? head.Position, head.Position);
            if (from > to)
                throw new Core.Errors.VaultConfigurationException($"--from {from} is past the last position to export ({to}); the log's head is {head.Position}.");
            var file = parse.GetValue(Out);
            if (file is not null && File.Exists(file))
                throw new Core.Errors.VaultConfigurationException($"{file} exists; an export never overwrites. Name another file.");
            var temp = file is null ? null : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file))!, $".{Path.GetFileName(file)}.tmp-{Guid.NewGuid():N}");
            long written = 0;
            try
            {
                await using (var stream = temp is null ? Console.OpenStandardOutput() : new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
                {
                    var lines = new ExportLines(stream);
                    var line = lines.Writer;
                    line.WriteStartObject();
                    line.WriteString("format", Format);
                    line.WriteString("vaultId", manifest.VaultId);
                    line.WriteString("genesisHash", manifest.GenesisHash);
                    line.WriteNumber("from", from);
                    line.WriteNumber("to", to);
                    line.WriteString("hashFormat", "chain-hash/v1 (docs/log-format.md)");
                    line.WriteEndObject();
                    lines.End();

                    var tree = from == 1 ? new MerkleTree() : null;
                    void Progress()
                    {
                        if (++written % 100_000 == 0 && file is not null)
                            context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"exported {written:N0} of {to - from + 1:N0} records…"));
                    }

                    var lastHash = new byte[32];
                    if ((log as GroupCommitEventLog)?.RawScan is { } raw)
                    {
                        // Each record written from the store's own buffers: nothing is built or allocated per record.
                        using var cursor = raw.OpenCursor();
                        cursor.Scan(from, to, new RawExport(lines, tree, lastHash, Progress), ct);
                    }
                    else
                    {
                        await foreach (var r in log.ReadAllAsync(from, ct))
                        {
                            if (r.Position > to)
                                break;
                            LogRecordLine.Write(line, r);
                            lines.End();
                            tree?.Append(r.Hash);
                            r.Hash.CopyTo(lastHash, 0);
                            Progress();
                        }
                    }

                    line.WriteStartObject();
                    line.WriteString("end", "vault-audit-export/v1");
                    line.WriteNumber("records", written);
                    line.WriteNumber("headPosition", from + written - 1);
                    line.WriteString("headHash", written == 0 ? "" : Convert.ToHexStringLower(lastHash));
                    if (tree is not null)
                        line.WriteString("merkleRoot", Convert.ToHexStringLower(tree.Root()));
                    line.WriteEndObject();
                    lines.End();
                    lines.Drain();
                    await stream.FlushAsync(ct);
                    if (stream is FileStream fs)
                        fs.Flush(flushToDisk: true);
                }

                if (temp is not null)
                    File.Move(temp, file!, overwrite: false);
            }
            finally
            {
                if (temp is not null && File.Exists(temp))
                    File.Delete(temp);
            }

            if (written != to - from + 1)
                throw new Core.Errors.StorageCorruptException($"The log holds {written} records between positions {from} and {to}, not {to - from + 1}: records are missing. Run 'vault log verify'.");
            if (file is not null)
                context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"exported records {from} to {to} ({written:N0}) to {file}"));
            return ExitCodes.Ok;
        }
    }

    /// <summary>JSON lines into one buffer, written to the stream a megabyte at a time.</summary>
    private sealed class ExportLines
    {
        private readonly Stream _stream;
        private readonly System.Buffers.ArrayBufferWriter<byte> _buffer = new(1 << 21);

        public ExportLines(Stream stream)
        {
            _stream = stream;
            Writer = new Utf8JsonWriter(_buffer, LogRecordLine.WriterOptions);
        }

        public Utf8JsonWriter Writer { get; }

        public void End()
        {
            Writer.Flush();
            _buffer.GetSpan(1)[0] = (byte)'\n';
            _buffer.Advance(1);
            Writer.Reset();
            if (_buffer.WrittenCount >= 1 << 20)
                Drain();
        }

        public void Drain()
        {
            _stream.Write(_buffer.WrittenSpan);
            _buffer.ResetWrittenCount();
        }
    }

    private sealed class RawExport(ExportLines lines, MerkleTree? tree, byte[] lastHash, Action progress) : IStoredRecordVisitor
    {
        public void Visit(in StoredRecord r)
        {
            LogRecordLine.Write(lines.Writer, r.Position, r.StreamId, r.StreamVersion, r.EventType, r.RecordedAtMicroseconds, r.Metadata, r.Payload, r.PreviousHash, r.Hash);
            lines.End();
            tree?.Append(r.Hash);
            r.Hash.CopyTo(lastHash);
            progress();
        }
    }
}
