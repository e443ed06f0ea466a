using System.CommandLine;
using System.Globalization;
using Vault.Core.ReadModels;
using Vault.Core.Sets;
using Vault.Services;
using Vault.Services.ReadModels;
using Vault.Storage.ReadModels;
using Vault.Storage.Segments;

namespace Vault.Ops.Commands;

/// <summary>vault sets list|show: what the vault holds. An open set that was never sealed is shown as incomplete.</summary>
public static class SetsCommands
{
    private static readonly Argument<string> Set = new("SET") { Description = "The set id." };

    public static Command Create(CliContext context)
    {
        var list = new Command("list", "Every backup set: sealed ones with files, bytes and retention; open ones marked INCOMPLETE (not a backup). Read from the sets read model, brought up to date first.");
        list.SetAction((parse, ct) => ListAsync(parse, context, ct));
        var show = new Command("show", "One set: its state, totals, retention and manifest entries.") { Set };
        show.SetAction((parse, ct) => ShowAsync(parse, context, ct));
        return new Command("sets", "The backup sets in the vault.") { list, show };
    }

    private static async Task<int> ListAsync(ParseResult parse, CliContext context, CancellationToken ct)
    {
        var directory = GlobalOptions.VaultDirectory(parse, context);
        var (_, log) = await VaultOpener.OpenAsync(directory, GlobalOptions.PostgresConnection(parse, context), context.Clock, ct);
        await using (log)
        {
            // From the sets read model, brought up to the log's head first (docs/read-models.md); a replay where there is none.
            var sets = await ReadModelAccess.ListSetListingsAsync(log, new FileSegmentStore(VaultOpener.SegmentsDirectory(directory)), ct);
            if (parse.GetValue(GlobalOptions.Json))
            {
                context.WriteJson(sets.Select(Summary));
                return ExitCodes.Ok;
            }

            string[] headers = ["SET", "SOURCE", "STATE", "FILES", "MB", "SEALED (UTC)", "RETAINED UNTIL", "HOLDS"];
            static string State(SetListingRow s) => (SetStatus)s.Status switch { SetStatus.Sealed => "sealed", SetStatus.Deleted => "deleted", _ => "INCOMPLETE" };
            if (sets.Count > Tables.DrawnRowLimit)
            {
                // Plain columns formatted in place: 100,000 sets as 800,000 cell strings cost more than reading them.
                var widths = headers.Select(h => h.Length).ToArray();
                long maxFiles = 0, maxBytes = 0;
                foreach (var s in sets)
                {
                    widths[0] = Math.Max(widths[0], s.SetId.Length);
                    widths[1] = Math.Max(widths[1], s.Source.Length);
                    widths[2] = Math.Max(widths[2], State(s).Length);
                    if (s.SealedTime is not null)
                        (maxFiles, maxBytes, widths[5], widths[6]) = (Math.Max(maxFiles, s.FileCount), Math.Max(maxBytes, s.TotalBytes), Math.Max(widths[5], 16), Math.Max(widths[6], 10));
                    if (s.HoldsJson is not null)
                        widths[7] = Math.Max(widths[7], string.Join(",", SetDocument.HoldIds(s.HoldsJson)).Length);
                }

                widths[3] = Math.Max(widths[3], maxFiles.ToString("N0", CultureInfo.InvariantCulture).Length);
                widths[4] = Math.Max(widths[4], (maxBytes / 1e6).ToString("N1", CultureInfo.InvariantCulture).Length);
                var table = new Tables.Plain(context.Output, widths, 3, 4);
                foreach (var h in headers)
                    table.Cell(h);
                table.EndRow();
                foreach (var s in sets)
                {
                    table.Cell(s.SetId);
                    table.Cell(s.Source);
                    table.Cell(State(s));
                    if (s.SealedTime is { } at)
                    {
                        table.Cell(s.FileCount, "N0");
                        table.Cell(s.TotalBytes / 1e6, "N1");
                        table.Cell(at.UtcDateTime, "yyyy-MM-dd HH:mm");
                        table.Cell(s.RetainUntil.UtcDateTime, "yyyy-MM-dd");
                    }
                    else
                    {
                        for (var i = 0; i < 4; i++)
                            table.Cell("");
                    }

                    table.Cell(s.HoldsJson is null ? "" : string.Join(",", SetDocument.HoldIds(s.HoldsJson)));
                    table.EndRow();
                }

                table.Flush();
                return ExitCodes.Ok;
            }

            Tables.Write(context, headers,
                [.. sets.Select(s => new[]
                {
                    s.SetId, s.Source, State(s),
                    s.SealedTime is null ? "" : s.FileCount.ToString("N0", CultureInfo.InvariantCulture),
                    s.SealedTime is null ? "" : (s.TotalBytes / 1e6).ToString("N1", CultureInfo.InvariantCulture),
                    s.SealedTime is not { } at ? "" : at.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
                    s.SealedTime is null ? "" : s.RetainUntil.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    s.HoldsJson is null ? "" : string.Join(",", SetDocument.HoldIds(s.HoldsJson)),
                })],
                "(no sets yet: 'vault push' makes one)", 3, 4);
            return ExitCodes.Ok;
        }
    }

    private static async Task<int> ShowAsync(ParseResult parse, CliContext context, CancellationToken ct)
    {
        var directory = GlobalOptions.VaultDirectory(parse, context);
        var (_, log) = await VaultOpener.OpenAsync(directory, GlobalOptions.PostgresConnection(parse, context), context.Clock, ct);
        await using (log)
        {
            var id = parse.GetValue(Set)!;
            var (state, _) = await new BackupSets(log).LoadAsync(id, ct);
            if (state.Status == SetStatus.None)
                throw new Core.Errors.NotAVaultException($"There is no set '{id}'. 'vault sets list' shows them.");
            var manifest = state.Status == SetStatus.Sealed
                ? await new SetRestorer(log, new FileSegmentStore(VaultOpener.SegmentsDirectory(directory))).ManifestAsync(id, ct)
                : null;
            if (parse.GetValue(GlobalOptions.Json))
            {
                context.WriteJson(new { summary = Summary(state), entries = manifest?.Entries });
                return ExitCodes.Ok;
            }

            var s = Summary(state);
            context.Output.WriteLine($"set       {s.SetId} ({s.Kind}) from {s.Source}: {s.State}");
            if (state.Sealed is { } sealedSet)
            {
                context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"contents  {sealedSet.FileCount:N0} files, {sealedSet.TotalBytes / 1e6:N1} MB, manifest {sealedSet.ManifestHash[..16]}"));
                context.Output.WriteLine($"sealed    {sealedSet.At:u}; retained until {state.RetainUntil:u}");
                foreach (var hold in state.Holds.Values)
                    context.Output.WriteLine($"hold      {hold.HoldId} placed by {hold.PlacedBy} at {hold.At:u}: {hold.Reason}");
                foreach (var e in manifest!.Entries.Take(50))
                    context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {e.Type,-7} {Convert.ToString(e.Mode, 8),6} {e.Size,12:N0}  {e.Path}{(e.Target is null ? "" : " -> " + e.Target)}"));
                if (manifest.Entries.Count > 50)
                    context.Output.WriteLine($"  … and {manifest.Entries.Count - 50} more (--json lists all)");
            }
            else
            {
                context.Output.WriteLine("INCOMPLETE: this set was opened but never sealed; it is not a backup.");
            }

            return ExitCodes.Ok;
        }
    }

    internal sealed record SetSummary(string SetId, string Source, string Kind, string State, long? Files, long? Bytes, DateTimeOffset OpenedAt, DateTimeOffset? SealedAt, DateTimeOffset? RetainUntil, IReadOnlyList<string> Holds);

    internal static SetSummary Summary(SetListingRow s) => new(
        s.SetId, s.Source, s.Kind, (SetStatus)s.Status switch { SetStatus.Sealed => "sealed", SetStatus.Deleted => "deleted", _ => "incomplete" },
        s.SealedTime is null ? null : s.FileCount, s.SealedTime is null ? null : s.TotalBytes, s.OpenedTime, s.SealedTime, s.SealedTime is null ? null : s.RetainUntil,
        SetDocument.HoldIds(s.HoldsJson));

    internal static SetSummary Summary(BackupSetState s) => new(
        s.Opened!.SetId, s.Opened.Source, s.Opened.Kind, s.Status switch { SetStatus.Sealed => "sealed", SetStatus.Deleted => "deleted", _ => "incomplete" },
        s.Sealed?.FileCount, s.Sealed?.TotalBytes, s.Opened.At, s.Sealed?.At, s.Sealed is null ? null : s.RetainUntil, [.. s.Holds.Keys]);
}
