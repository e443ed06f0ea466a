using System.CommandLine;
using System.Globalization;
using Vault.Core.Governance;
using Vault.Services;

namespace Vault.Ops.Commands;

/// <summary>
/// vault audit requests: the story of every protected request, re-proved from its signed records: who asked, who
/// signed (and whether each signature held when replayed with the rules of its position), who vetoed, what was
/// refused and why, expiry, execution and what it removed, and any record the proof did not accept.
/// </summary>
public static class AuditRequestsCommand
{
    private static readonly Option<string?> Kind = new("--kind") { Description = "Only this kind: delete, governance, release-hold, rotation.", HelpName = "KIND" };
    private static readonly Option<string?> From = new("--from") { Description = "Only requests made on or after this day (UTC, YYYY-MM-DD).", HelpName = "DATE" };
    private static readonly Option<string?> To = new("--to") { Description = "Only requests made on or before this day (UTC, YYYY-MM-DD).", HelpName = "DATE" };

    public static Command Create(CliContext context)
    {
        var command = new Command("requests", """
            Every protected request (deletion, governance change, hold release, rotation action) with its whole story,
            re-proved from the signed records alone: the request, every approval and veto with whether its signature
            held when replayed under the rules of its position, every refused attempt with its reason, expiry,
            execution and the segments it removed, and every record the proof did not accept (a forged or
            out-of-order record is listed, never counted). Exit 0; 10 when any record did not hold.

            Examples:
              vault audit requests --kind delete --from 2026-11-01 --json
            """)
        { Kind, From, To };
        command.SetAction((parse, ct) => RunAsync(parse, context, ct));
        return command;
    }

    private static DateOnly? Day(ParseResult parse, Option<string?> option) =>
        parse.GetValue(option) is { } text
            ? DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d
                : throw new Core.Errors.VaultConfigurationException($"{option.Name} '{text}' is not a date (YYYY-MM-DD).")
            : null;

    private sealed record Signed(string Signer, DateTimeOffset At, bool Verified);
    private sealed record Quorum(DateTimeOffset At, IReadOnlyList<string> Approvers, DateTimeOffset ExecutableAfter);
    private sealed record Veto(string By, DateTimeOffset At, string Reason, bool Verified);
    private sealed record Refused(DateTimeOffset At, string Actor, string Action, string Code, string Reason);
    private sealed record Executed(DateTimeOffset At, int SegmentsToRemove, IReadOnlyList<string> Segments);
    private sealed record NotAccepted(long Position, string Rule, string Detail);
    private sealed record Story(string Request, string? Kind, string Status, IReadOnlyList<string> Targets, string? Reason, string? RequestedBy, DateTimeOffset? RequestedAt,
        IReadOnlyList<string>? Loosening, IReadOnlyList<Signed> Approvals, Quorum? Quorum, IReadOnlyList<Veto> Vetoes, IReadOnlyList<Refused> Refused,
        DateTimeOffset? Expired, Executed? Executed, IReadOnlyList<NotAccepted> NotAccepted);

    public static string KindName(RequestKind kind) => kind switch
    {
        RequestKind.ChangeGovernance => "governance",
        RequestKind.ReleaseHold => "release-hold",
        RequestKind.Rotation => "rotation",
        _ => "delete",
    };

    private static async Task<int> RunAsync(ParseResult parse, CliContext context, CancellationToken ct)
    {
        var kind = parse.GetValue(Kind);
        if (kind is not (null or "delete" or "governance" or "release-hold" or "rotation"))
            throw new Core.Errors.VaultConfigurationException($"--kind '{kind}' is none of delete, governance, release-hold, rotation.");
        var (from, to) = (Day(parse, From), Day(parse, To));
        var (_, log) = await VaultOpener.OpenAsync(GlobalOptions.VaultDirectory(parse, context), GlobalOptions.PostgresConnection(parse, context), context.Clock, ct);
        await using (log)
        {
            var stories = new List<Story>();
            var broken = 0;
            foreach (var view in await new DeletionService(log, context.Clock).ListAsync(ct))
            {
                var request = view.Events.OfType<RequestOpened>().FirstOrDefault();
                var state = view.State;
                var at = request?.At;
                if ((kind is not null && (request is null || KindName(request.Kind) != kind))
                    || (from is { } f && (at is null || DateOnly.FromDateTime(at.Value.UtcDateTime) < f))
                    || (to is { } t && (at is null || DateOnly.FromDateTime(at.Value.UtcDateTime) > t)))
                    continue;
                var accepted = new HashSet<IRequestEvent>(view.Proof.Accepted, ReferenceEqualityComparer.Instance);
                broken += view.Proof.Findings.Count;
                var approvals = view.Events.OfType<RequestApproved>().Select(a => new Signed(a.ApprovedBy, a.At, accepted.Contains(a)));
                stories.Add(new Story(
                    state.RequestId.Length > 0 ? state.RequestId : request?.RequestId ?? "?",
                    request is null ? null : KindName(request.Kind),
                    state.Status.ToString().ToLowerInvariant(),
                    request?.Targets ?? [],
                    request?.Reason,
                    request?.RequestedBy,
                    at,
                    request?.Loosening,
                    [.. (request is null ? approvals : approvals.Prepend(new Signed(request.RequestedBy, request.At, accepted.Contains(request))))],
                    view.Events.OfType<RequestQuorumReached>().Where(accepted.Contains).Select(q => new Quorum(q.At, q.Approvers, q.ExecutableAfter)).FirstOrDefault(),
                    [.. view.Events.OfType<RequestVetoed>().Select(v => new Veto(v.VetoedBy, v.At, v.Reason, accepted.Contains(v)))],
                    [.. view.Events.OfType<RequestAttemptRefused>().Select(r => new Refused(r.At, r.Actor, r.Action, r.Code.ToString(), r.Reason))],
                    view.Events.OfType<RequestExpired>().Where(accepted.Contains).Select(e => (DateTimeOffset?)e.At).FirstOrDefault(),
                    view.Proof.Execution is { } x ? new Executed(x.At, x.SegmentsToRemove.Count, x.SegmentsToRemove) : null,
                    [.. view.Proof.Findings.Select(p => new NotAccepted(p.Position, p.Rule, p.Detail))]));
            }

            if (parse.GetValue(GlobalOptions.Json))
                context.WriteJson(new { requests = stories, recordsNotAccepted = broken });
            else
            {
                foreach (var s in stories)
                {
                    context.Output.WriteLine($"{s.Request} ({s.Kind}, {s.Status}) asked by {s.RequestedBy} at {s.RequestedAt:u}: {string.Join(", ", s.Targets)} — {s.Reason}");
                    foreach (var a in s.Approvals)
                        context.Output.WriteLine($"  signed   {a.Signer} at {a.At:u}{(a.Verified ? "" : "  NOT ACCEPTED (signature or rules did not hold)")}");
                    foreach (var v in s.Vetoes)
                        context.Output.WriteLine($"  vetoed   {v.By} at {v.At:u}: {v.Reason}{(v.Verified ? "" : "  NOT ACCEPTED")}");
                    foreach (var r in s.Refused)
                        context.Output.WriteLine($"  refused  {r.Actor} {r.Action} at {r.At:u}: {r.Code}: {r.Reason}");
                    if (s.Expired is { } expired)
                        context.Output.WriteLine($"  expired  at {expired:u}");
                    if (s.Executed is { } executed)
                        context.Output.WriteLine($"  executed at {executed.At:u}, {executed.SegmentsToRemove} segments removed");
                    foreach (var p in s.NotAccepted)
                        context.Output.WriteLine($"  RECORD {p.Position} NOT ACCEPTED ({p.Rule}): {p.Detail}");
                }

                context.Output.WriteLine(stories.Count == 0 ? "(no requests)" : $"{stories.Count} requests; {broken} records did not hold");
            }

            return broken == 0 ? ExitCodes.Ok : ExitCodes.IntegrityViolation;
        }
    }
}
