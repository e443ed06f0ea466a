using System.CommandLine;
using System.Globalization;
using Vault.Services.ReadModels;
using Vault.Storage.Segments;

namespace Vault.Ops.Commands;

/// <summary>vault read-models status|rebuild|verify: the tables derived from the log (docs/read-models.md).</summary>
public static class ReadModelCommands
{
    public static Command Create(CliContext context)
    {
        var status = new Command("status", "Where the read models stand: the log position folded, the head, how far behind, where they are kept, how many sets and references.");
        status.SetAction((parse, ct) => RunAsync(parse, context, Mode.Status, ct));
        var rebuild = new Command("rebuild", """
            Empty the read models and fold the whole log again. Nothing is lost: they hold nothing the log does not.
            Needed only after a repair (a manifest restored from tape that was unreadable when its set was sealed);
            a log that was replaced is noticed by its chain hash and rebuilt on its own.
            """);
        rebuild.SetAction((parse, ct) => RunAsync(parse, context, Mode.Rebuild, ct));
        var verify = new Command("verify", $"""
            Compare the read models with a full replay of the log and the manifests, set by set, and the cached media
            inventory with a replay of the rotation, medium by medium, and name every difference. Exit {ExitCodes.IntegrityViolation} when they differ (then 'vault read-models rebuild'). No protected decision
            trusts the read models (docs/read-models.md); this is how an operator proves they are what the log says.
            """);
        verify.SetAction((parse, ct) => RunAsync(parse, context, Mode.Verify, ct));
        return new Command("read-models", """
            The read models: backup sets (state, sizes, retention, holds), segment references and requests, projected
            from the log in log order, and the media inventory (the rotation's fold, cached), kept beside it (SQLite:
            log.db.read; PostgreSQL: schema <schema>_read). 'vault sets list', 'request list', 'media list', 'rotation
            plan' and a deletion's search for unreferenced bytes read them; 'vault serve' keeps the first three up to
            date as records arrive. What erases, writes or executes replays the log.
            """)
        { status, rebuild, verify };
    }

    private enum Mode
    {
        Status,
        Rebuild,
        Verify,
    }

    private static async Task<int> RunAsync(ParseResult parse, CliContext context, Mode mode, CancellationToken ct)
    {
        var directory = GlobalOptions.VaultDirectory(parse, context);
        var (_, log) = await VaultOpener.OpenAsync(directory, GlobalOptions.PostgresConnection(parse, context), context.Clock, ct);
        await using (log)
        {
            var segments = new FileSegmentStore(VaultOpener.SegmentsDirectory(directory));
            var projector = await ReadModelAccess.OpenAsync(log, segments, ct)
                ?? throw new Core.Errors.VaultConfigurationException("This log keeps no read models.");
            await using var store = projector.Store;
            var json = parse.GetValue(GlobalOptions.Json);
            switch (mode)
            {
                case Mode.Rebuild:
                {
                    var progress = context.IsErrorTerminal ? new Progress<(long Position, long Head)>(p => context.Error.Write($"\rrebuilding: {p.Position:N0} of {p.Head:N0} records")) : null;
                    var done = await projector.RebuildAsync(ct, progress);
                    if (progress is not null)
                        context.Error.WriteLine();
                    if (json)
                        context.WriteJson(new { position = done.Checkpoint.Position, applied = done.Applied, seconds = done.Elapsed.TotalSeconds });
                    else
                        context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rebuilt from {done.Applied:N0} records in {done.Elapsed.TotalSeconds:N2} s; at position {done.Checkpoint.Position:N0}"));
                    return ExitCodes.Ok;
                }

                case Mode.Verify:
                {
                    IReadOnlyList<string> differences = [.. await ReadModelAccess.VerifyAsync(log, segments, projector, ct), .. await Rotation.Service.RotationJournal.VerifyCacheAsync(log, ct)];
                    if (json)
                        context.WriteJson(new { agree = differences.Count == 0, differences });
                    else if (differences.Count == 0)
                        context.Output.WriteLine("the read models agree with a full replay of the log and the manifests");
                    else
                        foreach (var d in differences)
                            context.Output.WriteLine($"DIFFERS: {d}");
                    return differences.Count == 0 ? ExitCodes.Ok : ExitCodes.IntegrityViolation;
                }

                default:
                {
                    var before = await store.ReadCheckpointAsync(ct);
                    var head = await log.ReadHeadAsync(ct);
                    var caught = await projector.CatchUpAsync(ct);
                    var sets = await store.ListSetsAsync(ct);
                    var (references, distinct) = await store.CountReferencesAsync(ct);
                    var behind = Math.Max(0, head.Position - Math.Max(0, before.Position));
                    if (json)
                    {
                        context.WriteJson(new
                        {
                            where = store.Describe, position = caught.Checkpoint.Position, head = head.Position, behindBefore = behind, applied = caught.Applied,
                            rebuilt = caught.Rebuilt, seconds = caught.Elapsed.TotalSeconds, sets = sets.Count, references, segments = distinct,
                        });
                        return ExitCodes.Ok;
                    }

                    context.Output.WriteLine($"where     {store.Describe}");
                    context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"position  {caught.Checkpoint.Position:N0} of {head.Position:N0} (was {behind:N0} records behind; {caught.Applied:N0} applied now in {caught.Elapsed.TotalSeconds:N2} s{(caught.Rebuilt ? ", rebuilt: the log was not the one folded before" : "")})"));
                    context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sets      {sets.Count:N0} ({sets.Count(s => s.Status == 2):N0} sealed, {sets.Count(s => s.Status == 1):N0} open, {sets.Count(s => s.Status == 3):N0} deleted)"));
                    context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"segments  {distinct:N0} referenced, {references:N0} references"));
                    return ExitCodes.Ok;
                }
            }
        }
    }
}
