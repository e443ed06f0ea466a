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

    [Fact]
    public async Task one_key_cannot_loosen_the_rotation_and_the_quorum_can_after_twice_the_delay()
    {
        var keys = await TestApprovers.CreateAsync(_temp.Sub("keys"), "alice", "bob", "carol");
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
}
