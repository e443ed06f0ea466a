using System.CommandLine;
using Vault.Core.Errors;
using Vault.Core.Governance;
using Vault.Services;

namespace Vault.Ops.Commands;

/// <summary>vault governance propose|show: the rules themselves change only through the same signed quorum.</summary>
public static class GovernanceCommands
{
    private static readonly Option<string[]> Add = new("--add-approver") { Description = "Add an approver, NAME=PUBLICKEYHEX as 'vault approver keygen' prints it. Repeatable.", HelpName = "NAME=KEY" };
    private static readonly Option<string[]> Remove = new("--remove-approver") { Description = "Remove an approver. Repeatable.", HelpName = "NAME" };
    private static readonly Option<int?> Quorum = new("--quorum") { Description = "The new number of distinct approvers a request needs (at least 2).", HelpName = "M" };
    private static readonly Option<string?> CoolingOff = new("--cooling-off") { Description = "The new delay between quorum and execution, e.g. 96h.", HelpName = "DURATION" };
    private static readonly Option<string?> RequestExpiry = new("--request-expiry") { Description = "The new time a request has to reach quorum, e.g. 7d.", HelpName = "DURATION" };
    private static readonly Option<string?> MinimumRetention = new("--min-retention") { Description = "The new minimum retention of sets sealed from now on, e.g. 90d.", HelpName = "DURATION" };
    private static readonly Option<string> Reason = new("--reason") { Description = "Why, for the approvers and the auditors.", Required = true, HelpName = "TEXT" };
    private static readonly Option<string?> NewId = new("--id") { Description = "The request's id (default: gov-DATE-RANDOM).", HelpName = "ID" };
    private static readonly Option<long?> AtPosition = new("--at") { Description = "Show the rules in force right after this log position (replay), instead of now.", HelpName = "POSITION" };

    public static Command Create(CliContext context)
    {
        var propose = new Command("propose", """
            Propose new governance rules, signed with your key (your signature is the first approval). The proposal
            needs the same quorum as a deletion, then waits the cooling-off delay, or twice it when it loosens
            protection: a lower quorum, a shorter delay or retention, a longer request expiry, or adding, removing or
            re-keying an approver. Any approver can veto it meanwhile. It applies only to the rules it was made against:
            if another change lands first, propose again.
            Approvers sign it with 'vault request approve ID'; once executable, 'vault request execute ID' (or the
            service's schedule) applies it.

            Examples:
              vault governance propose --add-approver erin=5c1e...9a --reason "erin joins ops" --key ~/alice.vaultkey
              vault governance propose --quorum 3 --cooling-off 96h --reason "tighten" --key ~/alice.vaultkey
            """)
        { Add, Remove, Quorum, CoolingOff, RequestExpiry, MinimumRetention, Reason, NewId, KeyFiles.Key, KeyFiles.PasswordFile };
        propose.SetAction((parse, ct) => DeletionCommands.RunAsync(parse, context, ct, async (service, vaultId, key) =>
        {
            var current = await GovernanceReader.ReadStateAsync(service.Log, null, ct);
            var proposal = Proposal(parse, current.Rules);
            var id = DeletionService.ValidateId(parse.GetValue(NewId) ?? $"gov-{context.Clock.GetUtcNow():yyyyMMdd}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3))}");
            string[] targets = [RequestTargets.Governance(proposal, current.Version)];
            var seen = await Witnessing.SeenAsync(service.Log, ct);
            var signature = Ed25519.Sign(key.PrivateKey, SigningPayload.For(vaultId, SignedAction.Request, id, SigningPayload.TargetsDigest(targets), seen));
            return await service.RequestAsync(new RequestDeletion(id, targets, parse.GetValue(Reason)!, key.Approver, signature, RequestKind.ChangeGovernance, proposal, current.Version, seen), ct);
        }));

        var show = new Command("show", "The governance rules in force (or at a log position with --at), and every change applied so far, with the request that made it.") { AtPosition };
        show.SetAction((parse, ct) => ShowAsync(parse, context, ct));
        return new Command("governance", "The approvers and rules that protect the vault; they change only through a signed, delayed quorum.") { propose, show };
    }

    private static GovernanceDocument Proposal(ParseResult parse, GovernanceRules current)
    {
        var approvers = current.Approvers.ToList();
        foreach (var name in parse.GetValue(Remove) ?? [])
        {
            if (approvers.RemoveAll(a => a.Id.Value == name) == 0)
                throw new VaultConfigurationException($"--remove-approver {name}: there is no such approver ({string.Join(", ", current.Approvers.Select(a => a.Id))}).");
        }

        foreach (var text in parse.GetValue(Add) ?? [])
            approvers.Add(InitCommand.ParseApprover(text, "--add-approver"));
        try
        {
            var rules = new GovernanceRules(approvers, parse.GetValue(Quorum) ?? current.Quorum,
                parse.GetValue(CoolingOff) is { } d ? Durations.Parse(d, "--cooling-off") : current.CoolingOff,
                parse.GetValue(RequestExpiry) is { } e ? Durations.Parse(e, "--request-expiry") : current.RequestExpiry,
                parse.GetValue(MinimumRetention) is { } r ? Durations.Parse(r, "--min-retention") : current.MinimumRetention);
            var proposal = GovernanceDocument.From(rules);
            if (proposal.Digest() == GovernanceDocument.From(current).Digest())
                throw new VaultConfigurationException("The proposal changes nothing: pass at least one of --add-approver, --remove-approver, --quorum, --cooling-off, --request-expiry, --min-retention.");
            return proposal;
        }
        catch (ArgumentException ex)
        {
            throw new VaultConfigurationException($"The proposed rules are not valid: {ex.Sentence()} Nothing was signed or recorded.");
        }
    }

    /// <summary>What 'governance show --json' prints (and 'audit replay' at a moment).</summary>
    internal static object Shown(GovernanceState state) => new
    {
        state.VaultId,
        rulesVersion = state.Version,
        rules = GovernanceDocument.From(state.Rules),
        changes = state.Changes.Select(c => new { position = c.Position, c.Change.RequestId, c.Change.At, c.Change.Loosening }),
    };

    private static async Task<int> ShowAsync(ParseResult parse, CliContext context, CancellationToken ct)
    {
        var (_, log) = await VaultOpener.OpenAsync(GlobalOptions.VaultDirectory(parse, context), GlobalOptions.PostgresConnection(parse, context), context.Clock, ct);
        await using (log)
        {
            var state = await GovernanceReader.ReadStateAsync(log, parse.GetValue(AtPosition), ct);
            var rules = state.Rules;
            if (parse.GetValue(GlobalOptions.Json))
            {
                context.WriteJson(Shown(state));
                return ExitCodes.Ok;
            }

            var at = parse.GetValue(AtPosition) is { } p ? $"after log position {p}" : "now";
            context.Output.WriteLine($"rules in force {at} (version {state.Version}):");
            context.Output.WriteLine($"  quorum            {rules.Quorum} of {rules.Approvers.Count}");
            context.Output.WriteLine($"  cooling-off       {Durations.Format(rules.CoolingOff)} (twice that for a change that loosens protection)");
            context.Output.WriteLine($"  request expiry    {Durations.Format(rules.RequestExpiry)}");
            context.Output.WriteLine($"  min retention     {Durations.Format(rules.MinimumRetention)}");
            foreach (var a in rules.Approvers)
                context.Output.WriteLine($"  approver          {a.Id,-12} {a.PublicKeyHex}");
            foreach (var (position, change) in state.Changes)
                context.Output.WriteLine($"changed at {change.At:u} (position {position}) by request {change.RequestId}{(change.Loosening.Count > 0 ? $"; loosened: {string.Join("; ", change.Loosening)}" : "")}");
            if (state.Changes.Count == 0)
                context.Output.WriteLine("no change since genesis");
            return ExitCodes.Ok;
        }
    }
}
