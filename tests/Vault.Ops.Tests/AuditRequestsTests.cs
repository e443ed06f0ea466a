using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace Vault.Ops.Tests;

/// <summary>'vault audit requests': every request's story re-proved from its signed records; a forged approval is listed, never counted.</summary>
public sealed class AuditRequestsTests : IDisposable
{
    private readonly TempDir _temp = new();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 2, 9, 0, 0, TimeSpan.Zero));

    public void Dispose() => _temp.Dispose();

    private Task<CliRun> Run(params string[] args) => CliRun.RunAtAsync(_clock, [.. args, "--vault", _temp.Sub("vault")]);

    [Fact]
    public async Task every_request_shows_who_signed_what_was_refused_and_what_did_not_hold()
    {
        var keys = await TestApprovers.CreateAsync(_temp.Sub("keys"), "alice", "bob", "carol");
        Assert.Equal(0, (await CliRun.RunAtAsync(_clock, ["init", "--vault", _temp.Sub("vault"), .. keys.InitArguments, "--quorum", "2", "--min-retention", "1d"])).ExitCode);
        var source = _temp.Sub("source");
        Directory.CreateDirectory(source);
        await File.WriteAllBytesAsync(Path.Combine(source, "a.bin"), new byte[100_000]);
        Assert.Equal(0, (await Run("push", source, "--set", "s1", "--source", "web", "--no-cache")).ExitCode);
        Assert.Equal(0, (await Run(["deletion", "request", "--set", "s1", "--reason", "cleanup", "--id", "del-1", .. keys.As("alice")])).ExitCode);
        Assert.Equal(11, (await Run(["deletion", "approve", "del-1", .. keys.As("alice")])).ExitCode); // refused, and recorded
        _clock.Advance(TimeSpan.FromDays(3));
        Assert.Equal(0, (await Run(["governance", "propose", "--cooling-off", "96h", "--reason", "slower", "--id", "gov-1", .. keys.As("bob")])).ExitCode);
        var clean = await Run("audit", "requests", "--json");
        // Root on the primary appends an approval by carol that carol never signed.
        await new Backdoor(_temp.Sub("vault"), null).AppendAsync("deletion-del-1", 2, "RequestApproved.v1",
            $$"""{"requestId":"del-1","approvedBy":"carol","signature":"{{new string('0', 128)}}","at":"2026-11-05T09:00:00+00:00"}""", _clock.GetUtcNow());
        var forged = await Run("audit", "requests", "--kind", "delete", "--json");
        var governanceOnly = await Run("audit", "requests", "--kind", "governance", "--from", "2026-11-04", "--json");
        var none = await Run("audit", "requests", "--to", "2026-11-01");
        var text = await Run("audit", "requests");

        Assert.True(clean.ExitCode == 0, clean.Error);
        var all = JsonDocument.Parse(clean.Output).RootElement.GetProperty("requests").EnumerateArray().ToArray();
        Assert.Equal(["del-1", "gov-1"], all.Select(r => r.GetProperty("request").GetString()).Order());
        var deletion = all.Single(r => r.GetProperty("request").GetString() == "del-1");
        Assert.Equal("alice", Assert.Single(deletion.GetProperty("approvals").EnumerateArray()).GetProperty("signer").GetString());
        Assert.Equal("DuplicateApproval", Assert.Single(deletion.GetProperty("refused").EnumerateArray()).GetProperty("code").GetString());
        Assert.Equal(10, forged.ExitCode);
        var story = Assert.Single(JsonDocument.Parse(forged.Output).RootElement.GetProperty("requests").EnumerateArray());
        var carol = story.GetProperty("approvals").EnumerateArray().Single(a => a.GetProperty("signer").GetString() == "carol");
        Assert.False(carol.GetProperty("verified").GetBoolean());
        Assert.Equal("pending", story.GetProperty("status").GetString()); // the forged approval does not make a quorum
        Assert.NotEmpty(story.GetProperty("notAccepted").EnumerateArray());
        Assert.Equal(["gov-1"], JsonDocument.Parse(governanceOnly.Output).RootElement.GetProperty("requests").EnumerateArray().Select(r => r.GetProperty("request").GetString()));
        Assert.Contains("(no requests)", none.Output);
        Assert.Contains("NOT ACCEPTED", text.Output);
    }
}
