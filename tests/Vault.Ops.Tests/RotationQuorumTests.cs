using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Rotation.Core;

namespace Vault.Ops.Tests;

/// <summary>
/// Rotation actions that loosen protection go through the quorum: a looser policy, an off-site medium brought home
/// early, a needed medium recorded lost. One approver key and the CLI get each refused; tightening applies at once;
/// the quorum and twice the cooling-off delay carry the same action out.
/// </summary>
public sealed class RotationQuorumTests : IDisposable
{
    private readonly TempDir _temp = new();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 1, 4, 20, 0, 0, TimeSpan.Zero)); // a first Sunday

    public void Dispose() => _temp.Dispose();

    private Task<CliRun> Run(params string[] args) => CliRun.RunAtAsync(_clock, [.. args, "--vault", _temp.Sub("vault")]);

    private async Task<string> PolicyFileAsync(string name, Func<RotationPolicy, RotationPolicy> change)
    {
        var policy = change(JsonSerializer.Deserialize<RotationPolicy>(await File.ReadAllTextAsync(Path.Combine(_temp.Sub("vault"), "rotation.json")), RotationPolicy.Json)!);
        await File.WriteAllTextAsync(_temp.Sub(name), policy.ToJson());
        return _temp.Sub(name);
    }

    /// <summary>A vault with quorum 2 and a 24 h delay, rotation with off-site roots of their own, one set pushed, and
    /// Sunday's and Wednesday's runs done: the weekly is at offsite-a, the monthly at offsite-b.</summary>
    private async Task<(TestApprovers Keys, RotationPolicy Policy)> SetUpAsync(params string[] approvers)
    {
        var keys = await TestApprovers.CreateAsync(_temp.Sub("keys"), approvers);
        Assert.Equal(0, (await CliRun.RunAtAsync(_clock, ["init", "--vault", _temp.Sub("vault"), .. keys.InitArguments, "--quorum", "2", "--cooling-off", "24h"])).ExitCode);
        var policy = RotationPolicy.Default(capacityBytes: TapeLayout.MinimumCapacity);
        policy = policy with { Sites = [.. policy.Sites.Select(s => s.Offsite ? s with { Root = _temp.Sub(s.Name) } : s)] };
        await File.WriteAllTextAsync(_temp.Sub("policy.json"), policy.ToJson());
        Assert.Equal(0, (await Run("rotation", "configure", "--policy", _temp.Sub("policy.json"))).ExitCode);
        var source = _temp.Sub("source");
        Directory.CreateDirectory(source);
        await File.WriteAllBytesAsync(Path.Combine(source, "a.bin"), new byte[300_000]);
        Assert.Equal(0, (await Run("push", source, "--set", "night-0", "--source", "web", "--no-cache")).ExitCode);
        Assert.Equal(0, (await Run("rotation", "run", "--courier")).ExitCode);
        _clock.Advance(TimeSpan.FromDays(3));
        Assert.Equal(0, (await Run("rotation", "run", "--courier")).ExitCode);
        return (keys, policy);
    }

    [Fact]
    public async Task one_key_cannot_loosen_the_rotation_and_the_quorum_can_after_twice_the_delay()
    {
        var (keys, _) = await SetUpAsync("alice", "bob", "carol");
        var weekly = JsonDocument.Parse((await Run("media", "list", "--json")).Output).RootElement.EnumerateArray()
            .Single(m => m.GetProperty("pool").GetString() == "weekly" && m.GetProperty("site").GetString() == "offsite-a").GetProperty("label").GetString()!;

        var looser = await PolicyFileAsync("looser.json", p => p with { Pools = [.. p.Pools.Select(x => x.Name == "weekly" ? x with { KeepDays = 1 } : x)] });
        var dropSite = await PolicyFileAsync("drop.json", p => p with { Sites = [.. p.Sites.Where(s => s.Name != "offsite-b")], Pools = [.. p.Pools.Where(x => x.Name != "monthly")] });
        var tighter = await PolicyFileAsync("tighter.json", p => p with { Pools = [.. p.Pools.Select(x => x.Name == "weekly" ? x with { KeepDays = 40 } : x)] });
        var alice = keys.As("alice");
        var configure = await Run("rotation", "configure", "--policy", looser);
        var drop = await Run("rotation", "configure", "--policy", dropSite);
        var home = await Run("media", "ship", weekly, "--to", "primary");
        var lose = await Run("media", "lose", weekly, "--reason", "oops");
        var tighten = await Run("rotation", "configure", "--policy", tighter);
        var propose = await Run(["rotation", "propose", "--policy", looser, "--reason", "save media", "--id", "rot-looser", .. alice]);
        var proposeHome = await Run(["rotation", "propose", "--ship", weekly, "--to", "primary", "--reason", "audit", "--id", "rot-home", .. alice]);
        var alone = await Run("request", "execute", "rot-looser");
        var selfApprove = await Run(["request", "approve", "rot-looser", .. alice]);

        Assert.Equal(11, configure.ExitCode);
        Assert.Contains($"keeps 1 days instead of 35", configure.Error);
        Assert.Equal(11, drop.ExitCode);
        Assert.Contains("site offsite-b is dropped", drop.Error);
        Assert.Equal(11, home.ExitCode);
        Assert.Contains("needs the quorum", home.Error);
        Assert.Equal(11, lose.ExitCode);
        Assert.True(tighten.ExitCode == 0, tighten.Error); // tightening applies at once
        Assert.Equal(0, propose.ExitCode);
        Assert.Equal(0, proposeHome.ExitCode);
        Assert.Equal(11, alone.ExitCode);
        Assert.Equal(11, selfApprove.ExitCode);
        configure.AssertNoStackTrace();
        var media = JsonDocument.Parse((await Run("media", "list", "--json")).Output).RootElement.EnumerateArray().ToArray();
        Assert.Equal("offsite-a", media.Single(m => m.GetProperty("label").GetString() == weekly).GetProperty("site").GetString());

        // The quorum: bob signs; the change still waits twice the cooling-off delay (it loosens protection).
        var bob = await Run(["request", "approve", "rot-looser", .. keys.As("bob")]);
        Assert.True(bob.ExitCode == 0, bob.Error);
        Assert.Equal(0, (await Run(["request", "approve", "rot-home", .. keys.As("bob")])).ExitCode);
        _clock.Advance(TimeSpan.FromHours(25));
        var early = await Run("request", "execute", "rot-looser");
        _clock.Advance(TimeSpan.FromHours(24));
        var executed = await Run("request", "execute", "rot-looser");
        var shipped = await Run("request", "execute", "rot-home");
        var again = await Run("request", "execute", "rot-looser");

        Assert.Equal(11, early.ExitCode);
        Assert.True(executed.ExitCode == 0, executed.Error);
        Assert.True(shipped.ExitCode == 0, shipped.Error);
        Assert.Equal(0, again.ExitCode); // already carried out: nothing more happens
        var applied = JsonSerializer.Deserialize<RotationPolicy>(await File.ReadAllTextAsync(Path.Combine(_temp.Sub("vault"), "rotation.json")), RotationPolicy.Json)!;
        Assert.Equal(1, applied.Pool("weekly").KeepDays);
        var moved = JsonDocument.Parse((await Run("media", "show", weekly, "--json")).Output).RootElement;
        Assert.Equal("primary", moved.GetProperty("destination").GetString());
        Assert.Equal(0, (await Run("log", "verify")).ExitCode);
    }

    /// <summary>
    /// Root on the primary skips the CLI and writes rotation records straight into the log with a valid chain link: a
    /// looser policy, an off-site weekly brought home naming a request that has one signature, a needed monthly
    /// recorded lost, erased and expired early. None is applied; each is named by 'log verify' and by the next run;
    /// and the request the forgery named still works once it has its quorum.
    /// </summary>
    [Fact]
    public async Task rotation_records_written_into_the_log_behind_the_vaults_back_change_nothing_and_are_named()
    {
        var (keys, policy) = await SetUpAsync("alice", "bob");
        async Task<Dictionary<string, JsonElement>> MediaAsync() => JsonDocument.Parse((await Run("media", "list", "--json")).Output).RootElement.EnumerateArray()
            .ToDictionary(m => m.GetProperty("label").GetString()!, m => m.Clone());
        var before = await MediaAsync();
        var weekly = before.Values.Single(m => m.GetProperty("pool").GetString() == "weekly" && m.GetProperty("site").GetString() == "offsite-a").GetProperty("label").GetString()!;
        var monthly = before.Values.Single(m => m.GetProperty("pool").GetString() == "monthly" && m.GetProperty("site").GetString() == "offsite-b").GetProperty("label").GetString()!;
        Assert.Equal(0, (await Run(["rotation", "propose", "--ship", weekly, "--to", "primary", "--reason", "audit", "--id", "rot-home", .. keys.As("alice")])).ExitCode);

        var backdoor = new Backdoor(_temp.Sub("vault"), null);
        var today = DateOnly.FromDateTime(_clock.GetUtcNow().UtcDateTime);
        var looser = policy with { Pools = [.. policy.Pools.Select(x => x with { KeepDays = 1 })] };
        IRotationEvent[] forged =
        [
            new RotationConfigured(looser, today),
            new MediumShipped(weekly, "offsite-a", "primary", today, today.AddDays(1), RequestId: "rot-home"),
            new MediumLost(monthly, today, "fell off the truck"),
            new MediumExpired(monthly, today),
            new MediumRecycled(monthly, today, "expired"),
        ];
        foreach (var e in forged)
        {
            var version = (await backdoor.ReadAsync()).Where(r => r.StreamId == "rotation").Max(r => r.StreamVersion);
            await backdoor.AppendAsync("rotation", version + 1, Rotation.Service.RotationJournal.Encode(e, "mallory").EventType,
                System.Text.Encoding.UTF8.GetString(Rotation.Service.RotationJournal.Encode(e, "mallory").Payload), _clock.GetUtcNow());
        }

        var after = await MediaAsync();
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var label in before.Keys)
        {
            Assert.Equal(before[label].GetProperty("state").ToString(), after[label].GetProperty("state").ToString());
            Assert.Equal(before[label].GetProperty("site").ToString(), after[label].GetProperty("site").ToString());
        }

        var verify = await Run("log", "verify", "--json");
        Assert.Equal(10, verify.ExitCode);
        var findings = JsonDocument.Parse(verify.Output).RootElement.GetProperty("findings").EnumerateArray()
            .Where(f => f.GetProperty("rule").GetString() == "rotation").Select(f => f.GetProperty("detail").GetString()!).ToArray();
        Assert.Equal(5, findings.Length);
        Assert.Contains(findings, f => f.Contains("keeps 1 days instead of 35") && f.Contains("names no approved request"));
        Assert.Contains(findings, f => f.Contains($"{weekly} is off site at offsite-a") && f.Contains("request rot-home could not execute then"));
        Assert.Contains(findings, f => f.Contains($"{monthly} is recorded lost"));
        Assert.Contains(findings, f => f.Contains($"{monthly} is expired on"));
        Assert.Contains(findings, f => f.Contains($"{monthly} is erased for reuse"));
        var run = await Run("rotation", "run");
        Assert.Equal(12, run.ExitCode);
        Assert.Contains("unproved-record", run.Output + run.Error);
        Assert.True(Directory.GetFiles(_temp.Sub("offsite-b"), monthly + "*", SearchOption.AllDirectories).Length > 0, "the monthly's image is still at offsite-b");

        // The request the forgery named is not used up: with its quorum and twice the delay it carries the weekly home.
        Assert.Equal(0, (await Run(["request", "approve", "rot-home", .. keys.As("bob")])).ExitCode);
        _clock.Advance(TimeSpan.FromHours(49));
        var home = await Run("request", "execute", "rot-home");
        Assert.True(home.ExitCode == 0, home.Error);
        var moved = JsonDocument.Parse((await Run("media", "show", weekly, "--json")).Output).RootElement;
        Assert.Equal("primary", moved.GetProperty("destination").GetString());
    }
}
