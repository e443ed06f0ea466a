using System.CommandLine;
using System.Globalization;
using Vault.Core.Governance;
using Vault.Services;
using Vault.Storage.Segments;
using Vault.Services.ReadModels;

namespace Vault.Ops.Commands;

/// <summary>vault deletion: request, approve, veto, list and show deletion requests. Nothing is deleted without a signed quorum.</summary>
public static class DeletionCommands
{
    private static readonly Argument<string> Id = new("REQUEST") { Description = "The request id, as 'vault deletion list' shows it." };
    private static readonly Option<string[]> Sets = new("--set") { Description = "A backup set to delete; repeat for each. The request covers exactly these.", Required = true, HelpName = "SET" };
    private static readonly Option<string> Reason = new("--reason") { Description = "Why, for the approvers and the auditors.", Required = true, HelpName = "TEXT" };
    private static readonly Option<string?> NewId = new("--id") { Description = "The new request's id (default: del-DATE-RANDOM).", HelpName = "ID" };

    public static Command Create(CliContext context)
    {
        var request = new Command("request", """
            Ask for backup sets to be deleted, signed with your key: your signature is the first approval.
            The request then needs the vault's quorum of distinct approvers, then waits the cooling-off delay,
            during which any approver can veto. Without quorum before the expiry it is denied.

            Example:
              vault deletion request --set web-2026-01-03 --reason "customer left" --key ~/alice.vaultkey
            """)
        { Sets, Reason, NewId, KeyFiles.Key, KeyFiles.PasswordFile };
        request.SetAction((parse, ct) => RunAsync(parse, context, ct, async (service, vaultId, key) =>
        {
            var id = parse.GetValue(NewId) ?? $"del-{context.Clock.GetUtcNow():yyyyMMdd}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3))}";
            DeletionService.ValidateId(id);
            var sets = parse.GetValue(Sets)!;
            var known = (await new BackupSets(service.Log).ListAsync(ct)).Where(s => s.Status == Core.Sets.SetStatus.Sealed).Select(s => s.Sealed!.SetId).ToHashSet();
            if (sets.FirstOrDefault(s => !known.Contains(s)) is { } unknown)
                throw new Core.Errors.VaultConfigurationException($"'{unknown}' is not a sealed set of this vault; 'vault sets list' shows them. Nothing was signed or recorded.");
            var seen = await Witnessing.SeenAsync(service.Log, ct);
            var signature = Ed25519.Sign(key.PrivateKey, SigningPayload.For(vaultId, SignedAction.Request, id, SigningPayload.TargetsDigest(sets), seen));
            return await service.RequestAsync(new RequestDeletion(id, sets, parse.GetValue(Reason)!, key.Approver, signature, Seen: seen), ct);
        }));

        var deletion = new Command("deletion", """
            Deletion requests: nothing is deleted unless a quorum of approvers signed, the cooling-off delay passed,
            nobody vetoed, and no hold or retention applies.
            """)
        { request };
        foreach (var command in RequestSubcommands(context))
            deletion.Subcommands.Add(command);
        return deletion;
    }

    /// <summary>'vault request': the same approve, veto, execute, list and show for every kind of protected request.</summary>
    public static Command CreateRequestGroup(CliContext context)
    {
        var group = new Command("request", """
            Every protected request, whatever it does: deletions ('vault deletion request'), governance changes
            ('vault governance propose') and hold releases ('vault hold release'). Each needs the quorum's signatures and
            the cooling-off delay (twice it for a change that loosens protection), and any approver can veto it.
            """);
        foreach (var command in RequestSubcommands(context))
            group.Subcommands.Add(command);
        return group;
    }

    private static Command[] RequestSubcommands(CliContext context)
    {
        var approve = new Command("approve", """
            Sign a request as one more approver. Read it first with 'show REQUEST': your signature covers exactly
            its targets (the sets, the proposed rules, or the hold).
            """)
        { Id, KeyFiles.Key, KeyFiles.PasswordFile };
        approve.SetAction((parse, ct) => RunAsync(parse, context, ct, async (service, vaultId, key) =>
        {
            var id = parse.GetValue(Id)!;
            var view = await service.LoadAsync(id, ct);
            var seen = await Witnessing.SeenAsync(service.Log, ct);
            var signature = Ed25519.Sign(key.PrivateKey, SigningPayload.For(vaultId, SignedAction.Approve, id, view.State.TargetsDigest, seen));
            return await service.ApproveAsync(new ApproveDeletion(id, key.Approver, signature, seen), ct);
        }));

        var veto = new Command("veto", "Stop a request for good. Any approver can veto until it is executed; a veto is final.")
        { Id, Reason, KeyFiles.Key, KeyFiles.PasswordFile };
        veto.SetAction((parse, ct) => RunAsync(parse, context, ct, async (service, vaultId, key) =>
        {
            var id = parse.GetValue(Id)!;
            var view = await service.LoadAsync(id, ct);
            var seen = await Witnessing.SeenAsync(service.Log, ct);
            var signature = Ed25519.Sign(key.PrivateKey, SigningPayload.For(vaultId, SignedAction.Veto, id, view.State.TargetsDigest, seen));
            return await service.VetoAsync(new VetoDeletion(id, key.Approver, parse.GetValue(Reason)!, signature, seen), ct);
        }));

        var execute = new Command("execute", """
            Carry out a request that may execute now: quorum reached, cooling-off passed, not vetoed, and every set past its
            retention with no legal hold. The decision, naming exactly the segments no remaining set uses, is recorded
            first; then those bytes are removed. Run it again after a crash to finish the removal. A governance change
            or hold release is applied the same way once executable. Needs no key; 'vault serve' does this on a schedule.
            """)
        { Id };
        execute.SetAction((parse, ct) => ExecuteAsync(parse, context, ct));

        var list = new Command("list", "Every request: its kind, state, approvals so far, and the time left until it may execute or expires.");
        list.SetAction((parse, ct) => ListAsync(parse, context, ct));
        var show = new Command("show", "One request in full: its targets (or proposed rules), approvals, refused attempts, and what happens next.") { Id };
        show.SetAction((parse, ct) => ShowAsync(parse, context, ct));

        return [approve, veto, execute, list, show];
    }

    internal static async Task<int> RunAsync(ParseResult parse, CliContext context, CancellationToken ct,
        Func<DeletionService, string, (ApproverId Approver, byte[] PrivateKey), Task<DeletionRequestView>> act)
    {
        var key = KeyFiles.Open(parse, context);
        var (manifest, log) = await VaultOpener.OpenAsync(GlobalOptions.VaultDirectory(parse, context), GlobalOptions.PostgresConnection(parse, context), context.Clock, ct);
        await using (log)
        {
            var (_, rules) = await GovernanceReader.ReadAsync(log, ct);
            var view = await act(new DeletionService(log, context.Clock), manifest.VaultId, key);
            Print(context, parse, view, rules);
            return ExitCodes.Ok;
        }
    }

    private static async Task<int> ExecuteAsync(ParseResult parse, CliContext context, CancellationToken ct)
    {
        var directory = GlobalOptions.VaultDirectory(parse, context);
        var (manifest, log) = await VaultOpener.OpenAsync(directory, GlobalOptions.PostgresConnection(parse, context), context.Clock, ct);
        await using (log)
        {
            var store = new Storage.Segments.FileSegmentStore(VaultOpener.SegmentsDirectory(directory));
            var rotation = new Rotation.Service.RotationService(directory, log, store, manifest.VaultId, context.Clock);
            var executor = new DeletionExecutor(log, store, context.Clock) { Rotation = (rotation.AppliedAsync, rotation.ApplyAsync) };
            var result = await executor.ExecuteAsync(parse.GetValue(Id)!, "operator", ct);
            var (_, rules) = await GovernanceReader.ReadAsync(log, ct);
            if (parse.GetValue(GlobalOptions.Json))
            {
                context.WriteJson(new { summary = Summary(result.View, rules, context.Clock.GetUtcNow()), segmentsRemoved = result.SegmentsRemoved, finishedEarlierRun = result.Completed });
                return ExitCodes.Ok;
            }

            Print(context, parse, result.View, rules);
            context.Output.WriteLine((result.View.State.Kind, result.Completed) switch
            {
                (RequestKind.Delete, true) => $"already executed; {result.SegmentsRemoved.Count} segments left over by an interrupted run were removed now",
                (RequestKind.Delete, false) => $"executed: {result.SegmentsRemoved.Count} segments removed (those no remaining set uses)",
                (RequestKind.ChangeGovernance, _) => "executed: the new rules are in force ('vault governance show')",
                _ => "executed: the hold is released",
            });
            return ExitCodes.Ok;
        }
    }

    private static async Task<int> ListAsync(ParseResult parse, CliContext context, CancellationToken ct)
    {
        var (_, log) = await VaultOpener.OpenAsync(GlobalOptions.VaultDirectory(parse, context), GlobalOptions.PostgresConnection(parse, context), context.Clock, ct);
        await using (log)
        {
            var (_, rules) = await GovernanceReader.ReadAsync(log, ct);
            // From the requests read model, brought up to the log's head first: each request re-proved from its records when folded.
            var states = await ReadModelAccess.ListRequestsAsync(log, new FileSegmentStore(VaultOpener.SegmentsDirectory(GlobalOptions.VaultDirectory(parse, context))), context.Clock, ct);
            if (parse.GetValue(GlobalOptions.Json))
            {
                context.WriteJson(states.Select(s => Summary(s, rules, context.Clock.GetUtcNow())));
                return ExitCodes.Ok;
            }

            var now = context.Clock.GetUtcNow();
            Tables.Write(context, ["REQUEST", "KIND", "STATE", "APPROVALS", "NEXT", "TARGETS"],
                [.. states.Select(v => Summary(v, rules, now)).Select(s => new[] { s.Request, s.Kind, s.State, $"{s.Approvals}/{rules.Quorum}", s.Next, string.Join(",", s.Sets) })],
                "(no requests)");
            return ExitCodes.Ok;
        }
    }

    private static async Task<int> ShowAsync(ParseResult parse, CliContext context, CancellationToken ct)
    {
        var (_, log) = await VaultOpener.OpenAsync(GlobalOptions.VaultDirectory(parse, context), GlobalOptions.PostgresConnection(parse, context), context.Clock, ct);
        await using (log)
        {
            var (_, rules) = await GovernanceReader.ReadAsync(log, ct);
            var view = await new DeletionService(log, context.Clock).LoadAsync(parse.GetValue(Id)!, ct);
            if (view.State.Status == DeletionStatus.None)
                throw new Core.Errors.NotAVaultException($"There is no deletion request '{parse.GetValue(Id)}'. 'vault deletion list' shows them all.");
            Print(context, parse, view, rules);
            return ExitCodes.Ok;
        }
    }

    private static void Print(CliContext context, ParseResult parse, DeletionRequestView view, GovernanceRules rules)
    {
        var summary = Summary(view, rules, context.Clock.GetUtcNow());
        if (parse.GetValue(GlobalOptions.Json))
        {
            context.WriteJson(new { summary, history = view.Events.Select(e => new { type = e.GetType().Name, e.At, @event = (object)e }) });
            return;
        }

        context.Output.WriteLine($"request   {summary.Request} ({summary.Kind}): {summary.State}, {summary.Approvals} of {rules.Quorum} approvals ({string.Join(", ", view.State.Approvals.Keys.Order(StringComparer.Ordinal))})");
        if (view.State.Kind == RequestKind.Delete)
            context.Output.WriteLine($"sets      {string.Join(", ", summary.Sets)}");
        else
            context.Output.WriteLine($"subject   {string.Join(", ", summary.Sets)}");
        if (view.State.Governance is { } proposal)
        {
            foreach (var change in GovernanceChange.Describe(rules, proposal.ToRules()))
                context.Output.WriteLine($"change    {change}");
            context.Output.WriteLine(view.State.Loosening.Count > 0
                ? $"loosens   {string.Join("; ", view.State.Loosening)}: waits {Durations.Format(DeletionDecider.Delay(view.State, rules))} after quorum (twice the cooling-off)"
                : $"tightens  only: waits {Durations.Format(DeletionDecider.Delay(view.State, rules))} after quorum");
        }

        context.Output.WriteLine($"next      {summary.Next}");
        foreach (var refused in view.Events.OfType<RequestAttemptRefused>())
            context.Output.WriteLine($"refused   {refused.At:u} {refused.Actor} {refused.Action}: {refused.Code}");
    }

    internal sealed record RequestSummary(string Request, string Kind, string State, int Approvals, string Next, IReadOnlyList<string> Sets, string RequestedBy, DateTimeOffset RequestedAt, DateTimeOffset? ExecutableAfter);

    internal static RequestSummary Summary(DeletionRequestView view, GovernanceRules rules, DateTimeOffset now) => Summary(view.State, rules, now);

    internal static RequestSummary Summary(DeletionRequestState s, GovernanceRules rules, DateTimeOffset now)
    {
        var expiresAt = s.RequestedAt + rules.RequestExpiry;
        var expired = s.Status == DeletionStatus.Pending && now >= expiresAt;
        var state = expired ? "expired" : s.Status switch
        {
            DeletionStatus.QuorumReached when now >= s.ExecutableAfter => "executable",
            DeletionStatus.QuorumReached => "cooling-off",
            _ => s.Status.ToString().ToLowerInvariant(),
        };
        var next = state switch
        {
            "pending" => $"needs {rules.Quorum - s.Approvals.Count} more; expires in {Left(expiresAt - now)}",
            "cooling-off" => $"executable in {Left(s.ExecutableAfter!.Value - now)}; vetoable",
            "executable" => "may execute once retention and holds allow",
            "expired" => "denied (no quorum before expiry)",
            "vetoed" => "denied (vetoed)",
            _ => "-",
        };
        var kind = AuditRequestsCommand.KindName(s.Kind);
        return new RequestSummary(s.RequestId, kind, state, s.Approvals.Count, next, s.Targets, s.RequestedBy, s.RequestedAt, s.ExecutableAfter);
    }

    private static string Left(TimeSpan span) => span.TotalHours >= 48
        ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalDays:F1} d")
        : string.Create(CultureInfo.InvariantCulture, $"{span.TotalHours:F1} h");
}
