using System.CommandLine;
using System.Globalization;
using Rotation.Service;
using Vault.Services;
using Vault.Storage.Segments;

namespace Vault.Ops.Commands;

/// <summary>vault check --read-data: the data scrub (every stored segment read back and hashed; tape images too).</summary>
public static class CheckCommand
{
    private static readonly Option<bool> ReadData = new("--read-data") { Description = "Read back every stored segment and check it against the SHA-256 the log recorded for it (required: the check reads data, it does not only list it)." };

    private static readonly Option<bool> Deep = new("--deep")
    {
        Description = "Also decompress every segment and check the SHA-256 of its content, even where the stored bytes match the SHA-256 recorded when they were written (slower; what a restore checks).",
    };

    private static readonly Option<double> Sample = new("--sample")
    {
        Description = "Read only this percentage of the stored segments, chosen at random each run (as restic's --read-data-subset), so a full scrub can be spread over days.",
        DefaultValueFactory = _ => 100,
        HelpName = "PCT",
    };

    private static readonly Option<DirectoryInfo[]> Images = new("--images")
    {
        Description = "Also read every tape image (*.vtape) in this directory: every record's checksum. Repeatable.",
        HelpName = "DIR",
    };

    public static Command Create(CliContext context)
    {
        var command = new Command("check", """
            Scrub the vault's data: read back every stored segment (or --sample PCT of them) on every core and check it,
            and name each damaged one by the sets and files that use it; list what sealed sets need that the store
            lacks; with --images, read every record of every tape image and check its checksum. A segment whose stored
            bytes match the SHA-256 the log recorded when they were written is exactly what ingest verified then; any
            other (written before that record existed, or rewritten since) is decompressed and its content's SHA-256
            checked. --deep decompresses and checks every segment.
            Nothing is changed. Exit 0 when everything read back intact; exit 10 naming what is damaged or missing
            (restore those sets from a site's images: 'vault media restore', 'vault drill site-loss --execute').

            Examples:
              vault check --read-data
              vault check --read-data --sample 10 --images /mnt/offsite-a --json
              vault check --read-data --deep
            """)
        { ReadData, Deep, Sample, Images };
        command.SetAction((parse, ct) => RunAsync(parse, context, ct));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, CliContext context, CancellationToken ct)
    {
        if (!parse.GetValue(ReadData))
            throw new Core.Errors.VaultConfigurationException("'vault check' reads the data back: say so with --read-data (and --sample PCT to read a part of it).");
        var sample = parse.GetValue(Sample);
        if (sample is <= 0 or > 100)
            throw new Core.Errors.VaultConfigurationException($"--sample takes a percentage above 0 and at most 100; got {sample.ToString(CultureInfo.InvariantCulture)}.");
        var images = parse.GetValue(Images) ?? [];
        foreach (var dir in images.Where(d => !d.Exists))
            throw new Core.Errors.VaultConfigurationException($"--images {dir.FullName} is not a directory.");
        var json = parse.GetValue(GlobalOptions.Json);
        var directory = GlobalOptions.VaultDirectory(parse, context);
        var (_, log) = await VaultOpener.OpenAsync(directory, GlobalOptions.PostgresConnection(parse, context), context.Clock, ct);
        await using (log)
        {
            var last = context.Clock.GetTimestamp();
            var progress = json ? null : new Progress<(long Done, long Total, long Bytes)>(p =>
            {
                if (context.Clock.GetElapsedTime(last) < TimeSpan.FromSeconds(1))
                    return;
                last = context.Clock.GetTimestamp();
                context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"read {p.Done:N0} of {p.Total:N0} segments ({p.Bytes / 1e6:N0} MB)…"));
            });
            var report = await new Scrubber(log, new FileSegmentStore(VaultOpener.SegmentsDirectory(directory)), context.Clock).RunAsync(sample, progress, ct, deep: parse.GetValue(Deep));
            var library = images.Length > 0 ? TapeLibrary.Open(images.Select(d => d.FullName)) : null;
            var imageDamage = library?.Damage ?? [];
            var seconds = Math.Max(report.Elapsed.TotalSeconds, 1e-6);
            var ok = report.Damage.Count == 0 && report.Missing.Count == 0 && imageDamage.Count == 0;
            if (json)
            {
                context.WriteJson(new
                {
                    intact = ok,
                    segments = new { @checked = report.Checked, decompressed = report.Decompressed, stored = report.Stored, storedBytes = report.StoredBytes, plaintextBytes = report.PlaintextBytes, seconds = Math.Round(seconds, 3), storedMBps = Math.Round(report.StoredBytes / 1e6 / seconds, 1), plaintextMBps = Math.Round(report.PlaintextBytes / 1e6 / seconds, 1) },
                    damaged = report.Damage,
                    missing = report.Missing,
                    images = library is null ? null : new { read = library.Images, damage = imageDamage },
                });
            }
            else
            {
                context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"read {report.Checked:N0} of {report.Stored:N0} stored segments ({report.StoredBytes / 1e6:N1} MB stored, {report.PlaintextBytes / 1e6:N1} MB of data; {report.Decompressed:N0} decompressed) in {seconds:F2} s, {report.StoredBytes / 1e6 / seconds:N0} MB/s stored, {report.PlaintextBytes / 1e6 / seconds:N0} MB/s of data"));
                foreach (var d in report.Damage)
                    context.Output.WriteLine($"DAMAGED  {d.Hash}: {Uses(d)} ({d.Problem})");
                foreach (var d in report.Missing)
                    context.Output.WriteLine($"MISSING  {d.Hash}: {Uses(d)}");
                if (library is not null)
                    context.Output.WriteLine($"read {library.Images} tape images: {imageDamage.Count} damaged records");
                foreach (var d in imageDamage)
                    context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"DAMAGED  image {d.Image} at offset {d.Offset}: {d.Problem}"));
                context.Output.WriteLine(ok ? "intact: everything read back as it was written" : "Restore the sets named above from a site's images ('vault media restore', 'vault drill site-loss --execute'); nothing was changed.");
            }

            return ok ? ExitCodes.Ok : ExitCodes.IntegrityViolation;
        }
    }

    private static string Uses(SegmentDamage d) => d.UsedBy.Count == 0
        ? "used by no sealed set"
        : string.Join("; ", d.UsedBy.Take(5).Select(u => $"set {u.SetId} file {u.Path}")) + (d.UsedBy.Count > 5 ? $"; and {d.UsedBy.Count - 5} more" : "");
}
