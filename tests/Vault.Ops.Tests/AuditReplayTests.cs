using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;

namespace Vault.Ops.Tests;

/// <summary>
/// 'vault audit replay --at' against what the live commands showed at that instant, over a generated history of
/// pushes, deletions, a governance change, a hold and rotation; and 'vault audit diff' between two of them.
/// </summary>
public sealed class AuditReplayTests : IDisposable
{
    private readonly TempDir _temp = new();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 1, 4, 20, 0, 0, TimeSpan.Zero));

    public void Dispose() => _temp.Dispose();

    private Task<CliRun> Run(params string[] args) => CliRun.RunAtAsync(_clock, [.. args, "--vault", _temp.Sub("vault")]);

    private async Task<JsonNode> LiveAsync(string[] command)
    {
        var run = await Run([.. command, "--json"]);
        Assert.True(run.ExitCode == 0, $"{string.Join(' ', command)}: {run.Error}");
        return JsonNode.Parse(run.Output)!;
    }

    [Fact]
    public async Task replay_at_any_instant_equals_what_the_live_commands_showed_then()
    {
        var random = new Random(20261202);
        var keys = await TestApprovers.CreateAsync(_temp.Sub("keys"), "alice", "bob", "carol");
        Assert.Equal(0, (await CliRun.RunAtAsync(_clock, ["init", "--vault", _temp.Sub("vault"), .. keys.InitArguments, "--quorum", "2", "--min-retention", "1d", "--cooling-off", "24h"])).ExitCode);
        Assert.Equal(0, (await Run("rotation", "configure")).ExitCode);
        var live = new List<(DateTimeOffset At, JsonNode Sets, JsonNode Requests, JsonNode Governance, JsonNode Media)>();
        var steps = new List<Func<Task>>();
        for (var i = 0; i < 8; i++)
        {
            var n = i;
            steps.Add(async () =>
            {
                var source = _temp.Sub($"src-{n}");
                Directory.CreateDirectory(source);
                await File.WriteAllBytesAsync(Path.Combine(source, "f.bin"), Enumerable.Range(0, 50_000).Select(b => (byte)(b * (n + 1))).ToArray());
                Assert.Equal(0, (await Run("push", source, "--set", $"s{n}", "--source", "web", "--no-cache")).ExitCode);
            });
            steps.Add(async () => Assert.True((await Run("rotation", "run", "--courier", "--label-new-media")).ExitCode is 0 or 12));
        }

        steps.Insert(5, async () => Assert.Equal(0, (await Run(["deletion", "request", "--set", "s0", "--reason", "old", "--id", "del-s0", .. keys.As("alice")])).ExitCode));
        steps.Insert(7, async () => Assert.Equal(0, (await Run(["request", "approve", "del-s0", .. keys.As("bob")])).ExitCode));
        steps.Insert(9, async () => Assert.Equal(0, (await Run(["hold", "place", "s1", "--hold", "case-1", "--reason", "litigation", .. keys.As("carol")])).ExitCode));
        steps.Insert(11, async () => Assert.Equal(0, (await Run(["governance", "propose", "--cooling-off", "48h", "--reason", "slower", "--id", "gov-1", .. keys.As("alice")])).ExitCode));
        steps.Insert(13, async () => Assert.Equal(0, (await Run(["request", "approve", "gov-1", .. keys.As("carol")])).ExitCode));
        steps.Add(async () => Assert.Equal(0, (await Run("request", "execute", "del-s0")).ExitCode));
        steps.Add(async () => Assert.Equal(0, (await Run("request", "execute", "gov-1")).ExitCode));
        foreach (var step in steps)
        {
            _clock.Advance(TimeSpan.FromHours(random.Next(3, 30)));
            await step();
            live.Add((_clock.GetUtcNow(), await LiveAsync(["sets", "list"]), await LiveAsync(["request", "list"]), await LiveAsync(["governance", "show"]), await LiveAsync(["media", "list"])));
        }

        // At each captured instant, every part equals; at random instants between two, the state of the earlier one.
        var checks = live.Select((l, i) => (At: l.At, Index: i, Exact: true)).ToList();
        for (var k = 0; k < 30; k++)
        {
            var i = random.Next(live.Count - 1);
            var gap = (live[i + 1].At - live[i].At).Ticks;
            checks.Add((live[i].At + TimeSpan.FromTicks((long)(random.NextDouble() * (gap - TimeSpan.TicksPerSecond))), i, false));
        }

        foreach (var (at, index, exact) in checks)
        {
            var replay = await Run("audit", "replay", "--at", at.ToString("o"), "--json");
            Assert.True(replay.ExitCode == 0, replay.Error);
            var state = JsonNode.Parse(replay.Output)!;
            var expected = live[index];
            Assert.True(JsonNode.DeepEquals(expected.Sets, state["sets"]), $"sets at {at:o} (step {index})");
            Assert.True(JsonNode.DeepEquals(expected.Governance, state["governance"]), $"governance at {at:o} (step {index})");
            Assert.True(JsonNode.DeepEquals(expected.Media, state["media"]), $"media at {at:o} (step {index})");
            if (exact)
                Assert.True(JsonNode.DeepEquals(expected.Requests, state["requests"]), $"requests at {at:o} (step {index})");
        }

        var diff = JsonNode.Parse((await Run("audit", "diff", live[3].At.ToString("o"), live[^1].At.ToString("o"), "--json")).Output)!;
        Assert.Contains(diff["sets"]!.AsArray(), c => c!["id"]!.GetValue<string>() == "s0" && c["change"]!.GetValue<string>().Contains("deleted", StringComparison.Ordinal));
        Assert.Contains(diff["requests"]!.AsArray(), c => c!["id"]!.GetValue<string>() == "gov-1" && c["change"]!.GetValue<string>() == "new");
        Assert.NotNull(diff["rules"]);
        Assert.NotEmpty(diff["media"]!.AsArray());
        Assert.Equal(2, (await Run("audit", "replay", "--at", "2020-01-01")).ExitCode); // before the vault existed
        Assert.Equal(2, (await Run("audit", "replay")).ExitCode);
    }
}
