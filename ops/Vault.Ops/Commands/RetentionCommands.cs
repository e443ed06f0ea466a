using System.CommandLine;
using System.Globalization;
using Vault.Core.Errors;
using Vault.Core.Governance;
using Vault.Core.Sets;
using Vault.Services;

namespace Vault.Ops.Commands;

/// <summary>vault retention extend: one approver keeps a set longer. Retention is never shortened.</summary>
public static class RetentionCommands
{
    private static readonly Argument<string> Set = new("SET") { Description = "The sealed set to keep longer." };
    private static readonly Option<string> Until = new("--until") { Description = "The new retain-until date (UTC), e.g. 2027-06-30 or 2027-06-30T12:00:00Z; later than the current one.", Required = true, HelpName = "DATE" };

    public static Command Create(CliContext context)
    {
        var extend = new Command("extend", """
            Keep a sealed set until a later date, signed with your approver key. One approver is enough to lengthen
            retention; nobody can shorten it. No deletion can execute before a set's retain-until, whatever the quorum.

            Example:
              vault retention extend web-2026-11-23 --until 2027-11-23 --key ~/alice.vaultkey
            """)
        { Set, Until, KeyFiles.Key, KeyFiles.PasswordFile };
        extend.SetAction((parse, ct) => ExtendAsync(parse, context, ct));
        return new Command("retention", "Retention locks: how long sets are kept whatever the quorum.") { extend };
    }

    private static async Task<int> ExtendAsync(ParseResult parse, CliContext context, CancellationToken ct)
    {
        if (!DateTimeOffset.TryParse(parse.GetValue(Until), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var until))
            throw new VaultConfigurationException($"--until takes a date such as 2027-06-30 or 2027-06-30T12:00:00Z; got '{parse.GetValue(Until)}'.");
        until = DateTimeOffset.FromUnixTimeSeconds(until.ToUnixTimeSeconds());
        var key = KeyFiles.Open(parse, context);
        var (manifest, log) = await VaultOpener.OpenAsync(GlobalOptions.VaultDirectory(parse, context), GlobalOptions.PostgresConnection(parse, context), context.Clock, ct);
        await using (log)
        {
            var set = parse.GetValue(Set)!;
            var digest = SigningPayload.TargetsDigest([RetentionExtended.Target(set, until)]);
            var seen = await Witnessing.SeenAsync(log, ct);
            var signature = Ed25519.Sign(key.PrivateKey, SigningPayload.For(manifest.VaultId, SignedAction.ExtendRetention, set, digest, seen));
            var extended = await new BackupSets(log).ExtendRetentionAsync(new ExtendRetention(set, until, key.Approver, signature, seen), context.Clock, ct);
            if (parse.GetValue(GlobalOptions.Json))
                context.WriteJson(new { extended.SetId, extended.RetainUntil, extended.ExtendedBy });
            else
                context.Output.WriteLine($"{extended.SetId} is now retained until {extended.RetainUntil:u} (extended by {extended.ExtendedBy})");
            return ExitCodes.Ok;
        }
    }
}
