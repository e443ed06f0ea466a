using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Rotation.Service;
using Vault.Services;
using Vault.Storage;
using Vault.Storage.Log;

namespace Vault.Ops.Commands;

/// <summary>
/// vault audit replay and diff: the vault's state at any past instant or position, by the same readers that show it
/// now, run over the log cut at that point (<see cref="LogAsOf"/>) with the clock set to that instant.
/// </summary>
public static class AuditReplayCommand
{
    private static readonly Option<string?> At = new("--at") { Description = "The instant (UTC, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ): the log up to its last record at or before it.", HelpName = "INSTANT" };
    private static readonly Option<long?> Position = new("--position") { Description = "The log position: the state after that record.", HelpName = "N" };
    private static readonly Argument<string> A = new("A") { Description = "The earlier moment: an instant (YYYY-MM-DD[THH:MM:SSZ]) or a position (#N)." };
    private static readonly Argument<string> B = new("B") { Description = "The later moment, the same way." };

    public static Command CreateReplay(CliContext context)
    {
        var command = new Command("replay", """
            The state at a past moment, as the live commands showed it then: sets (open, sealed, deleted) with sizes,
            retain-until and holds; requests with their state and approvals; the approvers and rules in force; media
            with state and site. Each part is the same JSON 'vault sets list', 'vault request list', 'vault governance
            show' and 'vault media list' print, computed by the same code over the log cut at that moment.

            Examples:
              vault audit replay --at 2026-11-23T18:00:00Z --json
              vault audit replay --position 1200
            """)
        { At, Position };
        command.SetAction(async (parse, ct) =>
        {
            if ((parse.GetValue(At) is null) == (parse.GetValue(Position) is null))
                throw new Core.Errors.VaultConfigurationException("Say the moment with exactly one of --at INSTANT or --position N.");
            var moment = parse.GetValue(At) is { } at ? ParseInstant(at, "--at") : null;
            return await WithLogAsync(parse, context, ct, async log =>
            {
                var state = await StateAsync(log, moment, parse.GetValue(Position), ct);
                if (parse.GetValue(GlobalOptions.Json))
                {
                    context.Output.WriteLine(state.ToJsonString(CliContext.Json));
                    return ExitCodes.Ok;
                }

                context.Output.WriteLine($"state after position {state["position"]} ({state["at"]}):");
                foreach (var part in new[] { "sets", "requests", "media" })
                    context.Output.WriteLine($"  {part,-9} {state[part]!.AsArray().Count}");
                context.Output.WriteLine($"  rules     version {state["governance"]!["rulesVersion"]}, quorum {state["governance"]!["rules"]!["quorum"]}");
                context.Output.WriteLine("--json shows each part in full.");
                return ExitCodes.Ok;
            });
        });
        return command;
    }

    public static Command CreateDiff(CliContext context)
    {
        var command = new Command("diff", """
            What changed between two moments (instants YYYY-MM-DD[THH:MM:SSZ], or positions #N): sets opened, sealed
            and deleted; requests opened and decided; rules changed; media moved or changed state.

            Example:
              vault audit diff 2026-11-01 2026-12-01 --json
            """)
        { A, B };
        command.SetAction((parse, ct) => WithLogAsync(parse, context, ct, async log =>
        {
            var before = await StateAsync(log, parse.GetValue(A)!, ct);
            var after = await StateAsync(log, parse.GetValue(B)!, ct);
            var diff = new JsonObject
            {
                ["from"] = new JsonObject { ["position"] = before["position"]!.DeepClone(), ["at"] = before["at"]!.DeepClone() },
                ["to"] = new JsonObject { ["position"] = after["position"]!.DeepClone(), ["at"] = after["at"]!.DeepClone() },
                ["sets"] = Changes(before["sets"]!.AsArray(), after["sets"]!.AsArray(), "setId", ["state", "retainUntil", "holds"]),
                ["requests"] = Changes(before["requests"]!.AsArray(), after["requests"]!.AsArray(), "request", ["state", "approvals"]),
                ["media"] = Changes(before["media"]!.AsArray(), after["media"]!.AsArray(), "label", ["state", "site", "destination", "writeId"]),
                ["rules"] = JsonNode.DeepEquals(before["governance"]!["rules"], after["governance"]!["rules"]) ? null
                    : new JsonObject { ["before"] = before["governance"]!.DeepClone(), ["after"] = after["governance"]!.DeepClone() },
            };
            if (parse.GetValue(GlobalOptions.Json))
            {
                context.Output.WriteLine(diff.ToJsonString(CliContext.Json));
                return ExitCodes.Ok;
            }

            context.Output.WriteLine($"from position {before["position"]} to {after["position"]}:");
            foreach (var part in new[] { "sets", "requests", "media" })
            {
                foreach (var change in diff[part]!.AsArray())
                    context.Output.WriteLine($"  {part,-9} {change!["id"]}: {change["change"]}");
            }

            if (diff["rules"] is not null)
                context.Output.WriteLine($"  rules     version {before["governance"]!["rulesVersion"]} -> {after["governance"]!["rulesVersion"]}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>Entries added, removed, or with one of <paramref name="fields"/> changed: {id, change, before, after}.</summary>
    private static JsonArray Changes(JsonArray before, JsonArray after, string key, string[] fields)
    {
        var old = before.ToDictionary(e => e![key]!.GetValue<string>(), e => e!);
        var changes = new JsonArray();
        foreach (var entry in after)
        {
            var id = entry![key]!.GetValue<string>();
            if (!old.Remove(id, out var was))
                changes.Add(new JsonObject { ["id"] = id, ["change"] = "new", ["after"] = entry.DeepClone() });
            else if (fields.Where(f => !JsonNode.DeepEquals(was[f], entry[f])).ToArray() is { Length: > 0 } changed)
                changes.Add(new JsonObject { ["id"] = id, ["change"] = string.Join(", ", changed.Select(f => $"{f} {Text(was[f])} -> {Text(entry[f])}")), ["before"] = was.DeepClone(), ["after"] = entry.DeepClone() });
        }

        foreach (var (id, was) in old)
            changes.Add(new JsonObject { ["id"] = id, ["change"] = "gone", ["before"] = was.DeepClone() });
        return changes;
    }

    private static string Text(JsonNode? node) => node?.ToJsonString() ?? "null";

    private static DateTimeOffset? ParseInstant(string text, string what) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at) ? at
            : throw new Core.Errors.VaultConfigurationException($"{what} '{text}' is not an instant (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ).");

    private static Task<JsonObject> StateAsync(IEventLog log, string moment, CancellationToken ct) =>
        moment.StartsWith('#') && long.TryParse(moment.AsSpan(1), out var position)
            ? StateAsync(log, null, position, ct)
            : StateAsync(log, ParseInstant(moment, "the moment"), null, ct);

    /// <summary>The state after <paramref name="position"/>, or after the last record at or before <paramref name="instant"/>.</summary>
    internal static async Task<JsonObject> StateAsync(IEventLog log, DateTimeOffset? instant, long? position, CancellationToken ct)
    {
        var head = await log.ReadHeadAsync(ct);
        long cut = 0;
        DateTimeOffset at;
        if (position is { } p)
        {
            if (p < 1 || p > head.Position)
                throw new Core.Errors.VaultConfigurationException($"Position {p} is not in the log (1 to {head.Position}).");
            cut = p;
            at = await log.ReadAllAsync(p, ct).Select(r => r.RecordedAt).FirstAsync(ct);
        }
        else
        {
            at = instant!.Value;
            await foreach (var record in log.ReadAllAsync(1, ct))
            {
                if (record.RecordedAt > at)
                    break;
                cut = record.Position;
            }

            if (cut == 0)
                throw new Core.Errors.VaultConfigurationException($"The log begins after {at:u}; there is no state before the vault existed.");
        }

        var past = new LogAsOf(log, cut);
        var clock = new FixedClock(at);
        var governance = await GovernanceReader.ReadStateAsync(past, null, ct);
        var sets = (await new BackupSets(past).ListAsync(ct)).Select(SetsCommands.Summary);
        var requests = (await new DeletionService(past, clock).ListAsync(ct)).Where(v => v.State.Status != Core.Governance.DeletionStatus.None).Select(v => DeletionCommands.Summary(v, governance.Rules, at)); // as `request list`: a stream with no valid request record is no request
        var journal = await RotationJournal.LoadAsync(past, "audit", null, ct);
        var media = journal.State.Media.Values.OrderBy(m => m.Label, StringComparer.Ordinal);
        return new JsonObject
        {
            ["position"] = cut,
            ["at"] = at,
            ["head"] = Convert.ToHexStringLower((await past.ReadHeadAsync(ct)).Hash),
            ["sets"] = JsonSerializer.SerializeToNode(sets, CliContext.Json),
            ["requests"] = JsonSerializer.SerializeToNode(requests, CliContext.Json),
            ["governance"] = JsonSerializer.SerializeToNode(GovernanceCommands.Shown(governance), CliContext.Json),
            ["media"] = JsonSerializer.SerializeToNode(media, CliContext.Json),
        };
    }

    private static async Task<int> WithLogAsync(ParseResult parse, CliContext context, CancellationToken ct, Func<IEventLog, Task<int>> act)
    {
        var (_, log) = await VaultOpener.OpenAsync(GlobalOptions.VaultDirectory(parse, context), GlobalOptions.PostgresConnection(parse, context), context.Clock, ct);
        await using (log)
            return await act(log);
    }

    private sealed class FixedClock(DateTimeOffset at) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => at;
    }
}
