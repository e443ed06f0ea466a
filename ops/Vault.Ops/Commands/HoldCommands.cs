using System.CommandLine;
using Vault.Core.Errors;
using Vault.Core.Governance;
using Vault.Core.Sets;
using Vault.Services;

namespace Vault.Ops.Commands;

/// <summary>vault hold place|release|list: legal holds. One approver places a hold; only a quorum releases it.</summary>
public static class HoldCommands
{
    private static readonly Argument<string> Set = new("SET") { Description = "The sealed set." };
    private static readonly Option<string> Hold = new("--hold") { Description = "The hold's id, e.g. a case number: case-2026-117.", Required = true, HelpName = "ID" };
    private static readonly Option<string> Reason = new("--reason") { Description = "Why, for the approvers and the auditors.", Required = true, HelpName = "TEXT" };
    private static readonly Option<string?> NewId = new("--id") { Description = "The release request's id (default: rel-DATE-RANDOM).", HelpName = "ID" };

    public static Command Create(CliContext context)
    {
        var place = new Command("place", """
            Place a legal hold on a sealed set, signed with your approver key. One approver is enough. While the hold
            stands, no deletion of the set can execute, whatever the quorum; releasing it needs the quorum.

            Example:
              vault hold place web-2026-11-23 --hold case-2026-117 --reason "litigation" --key ~/alice.vaultkey
            """)
        { Set, Hold, Reason, KeyFiles.Key, KeyFiles.PasswordFile };
        place.SetAction((parse, ct) => PlaceAsync(parse, context, ct));

        var release = new Command("release", """
            Ask for a legal hold to be released, signed with your key (the first approval). Like a deletion, the release
            needs the quorum and the cooling-off delay, and any approver can veto it; approve with
            'vault request approve ID', apply with 'vault request execute ID' (or let the service's schedule do it).
            """)
        { Set, Hold, Reason, NewId, KeyFiles.Key, KeyFiles.PasswordFile };
        release.SetAction((parse, ct) => DeletionCommands.RunAsync(parse, context, ct, async (service, vaultId, key) =>
        {
            var set = parse.GetValue(Set)!;
            var hold = parse.GetValue(Hold)!;
            var (state, _) = await new BackupSets(service.Log).LoadAsync(set, ct);
            if (!state.Holds.ContainsKey(hold))
                throw new VaultConfigurationException($"Set {set} has no hold '{hold}' in force ('vault hold list' shows them). Nothing was signed or recorded.");
            var id = DeletionService.ValidateId(parse.GetValue(NewId) ?? $"rel-{context.Clock.GetUtcNow():yyyyMMdd}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3))}");
            string[] targets = [RequestTargets.Hold(set, hold)];
            var seen = await Witnessing.SeenAsync(service.Log, ct);
            var signature = Ed25519.Sign(key.PrivateKey, SigningPayload.For(vaultId, SignedAction.Request, id, SigningPayload.TargetsDigest(targets), seen));
            return await service.RequestAsync(new RequestDeletion(id, targets, parse.GetValue(Reason)!, key.Approver, signature, RequestKind.ReleaseHold, Seen: seen), ct);
        }));

        var list = new Command("list", "Every legal hold in force: set, hold id, who placed it, when and why.");
        list.SetAction((parse, ct) => ListAsync(parse, context, ct));
        return new Command("hold", "Legal holds: a held set cannot be deleted by any quorum until the hold is released by quorum.") { place, release, list };
    }

    private static async Task<int> PlaceAsync(ParseResult parse, CliContext context, CancellationToken ct)
    {
        var key = KeyFiles.Open(parse, context);
        var (manifest, log) = await VaultOpener.OpenAsync(GlobalOptions.VaultDirectory(parse, context), GlobalOptions.PostgresConnection(parse, context), context.Clock, ct);
        await using (log)
        {
            var set = parse.GetValue(Set)!;
            var hold = parse.GetValue(Hold)!;
            if (!HoldDecider.IsValidHoldId(hold))
                throw new VaultConfigurationException($"'{hold}' is not a hold id: use 1 to 64 lower-case letters, digits, '.', '_' and '-'.");
            var digest = SigningPayload.TargetsDigest([RequestTargets.Hold(set, hold)]);
            var seen = await Witnessing.SeenAsync(log, ct);
            var signature = Ed25519.Sign(key.PrivateKey, SigningPayload.For(manifest.VaultId, SignedAction.PlaceHold, set, digest, seen));
            var store = new Storage.Segments.FileSegmentStore(VaultOpener.SegmentsDirectory(GlobalOptions.VaultDirectory(parse, context)));
            var placed = await new BackupSets(log).PlaceHoldAsync(new PlaceHold(set, hold, parse.GetValue(Reason)!, key.Approver, signature, seen), context.Clock, ct, store);
            if (parse.GetValue(GlobalOptions.Json))
                context.WriteJson(new { placed.SetId, placed.HoldId, placed.PlacedBy, placed.Reason, placed.At });
            else
                context.Output.WriteLine($"{placed.SetId} is under hold {placed.HoldId} (placed by {placed.PlacedBy}); only a quorum can release it");
            return ExitCodes.Ok;
        }
    }

    private static async Task<int> ListAsync(ParseResult parse, CliContext context, CancellationToken ct)
    {
        var (_, log) = await VaultOpener.OpenAsync(GlobalOptions.VaultDirectory(parse, context), GlobalOptions.PostgresConnection(parse, context), context.Clock, ct);
        await using (log)
        {
            var holds = (await new BackupSets(log).ListAsync(ct)).Where(s => s.Status == SetStatus.Sealed).SelectMany(s => s.Holds.Values).ToArray();
            if (parse.GetValue(GlobalOptions.Json))
            {
                context.WriteJson(holds.Select(h => new { h.SetId, h.HoldId, h.PlacedBy, h.Reason, h.At }));
                return ExitCodes.Ok;
            }

            Tables.Write(context, ["SET", "HOLD", "PLACED BY", "SINCE (UTC)", "REASON"],
                [.. holds.Select(h => new[] { h.SetId, h.HoldId, h.PlacedBy, h.At.UtcDateTime.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture), h.Reason })],
                "(no legal holds)");
            return ExitCodes.Ok;
        }
    }
}
