using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Vault.Core.Governance;

namespace Vault.Ops.Tests;

/// <summary>
/// "Trust, part 1", tried the way the attacker of DESIGN.md section 7 would: one approver key, the database
/// credentials and root on the primary. Records are forged or removed behind the service's back with the chain
/// recomputed (so the chain alone verifies); decisions must be re-proved from signatures, and verification must name
/// the record, the rule, and the copy of history that left the primary.
/// </summary>
public sealed class TrustTests : IDisposable
{
    private readonly TempDir _temp = new();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 23, 8, 0, 0, TimeSpan.Zero));
    private TestApprovers _team = null!;
    private Backdoor _backdoor = null!;
    private string _vault = "";

    public void Dispose() => _temp.Dispose();

    private Task<CliRun> Run(params string[] args) => CliRun.RunWithAsync(_backdoor.CliEnvironment, _clock, [.. args, "--vault", _vault]);

    private async Task SetUpAsync(string backend, params string[] sets)
    {
        _vault = _temp.Sub("vault");
        _team = await TestApprovers.CreateAsync(_temp.Sub("keys"), "alice", "bob", "carol");
        string[] pg = [];
        string? admin = null;
        if (backend == "postgres")
        {
            admin = Backdoor.PostgresAdmin ?? throw new InvalidOperationException("VAULT_TEST_PG is not set: run the tests with ops/test.sh (README).");
            pg = ["--postgres", admin, "--pg-schema", "trust_" + Guid.NewGuid().ToString("N")[..12]];
        }

        _backdoor = new Backdoor(_vault, admin);
        var init = await CliRun.RunAtAsync(_clock, ["init", "--vault", _vault, .. _team.InitArguments, .. pg, "--cooling-off", "1h", "--min-retention", "1h"]);
        Assert.True(init.ExitCode == 0, init.Error);
        foreach (var set in sets)
        {
            var source = _temp.Sub("src-" + set);
            Directory.CreateDirectory(source);
            await File.WriteAllTextAsync(Path.Combine(source, "a.txt"), "backup " + set);
            var push = await Run("push", source, "--set", set, "--source", "web");
            Assert.True(push.ExitCode == 0, push.Error);
        }

        _clock.Advance(TimeSpan.FromHours(2)); // past the minimum retention
    }

    private static string Json(object value) => JsonSerializer.Serialize(value, new JsonSerializerOptions(JsonSerializerDefaults.Web));

    private async Task<JsonElement> VerifyJsonAsync(params string[] extra)
    {
        var verify = await Run(["log", "verify", "--json", .. extra]);
        Assert.Equal(10, verify.ExitCode);
        return JsonDocument.Parse(verify.Output).RootElement;
    }

    private async Task<long> PositionOfAsync(string eventType) => (await _backdoor.ReadAsync()).Last(r => r.EventType == eventType).Position;

    [Theory]
    [InlineData("sqlite", "zero-signature")]
    [InlineData("sqlite", "signed-over-another-request")]
    [InlineData("sqlite", "not-an-approver")]
    [InlineData("sqlite", "quorum-without-approvals")]
    [InlineData("postgres", "zero-signature")]
    [InlineData("postgres", "signed-over-another-request")]
    [InlineData("postgres", "not-an-approver")]
    [InlineData("postgres", "quorum-without-approvals")]
    public async Task a_forged_approval_appended_behind_the_service_is_refused_at_execution_and_named_by_verify(string backend, string forgery)
    {
        await SetUpAsync(backend, "s1");
        var request = await Run(["deletion", "request", "--set", "s1", "--reason", "attack", "--id", "del-attack", .. _team.As("alice")]);
        Assert.True(request.ExitCode == 0, request.Error);
        var vaultId = VaultManifestId();
        var at = _clock.GetUtcNow();
        var stream = "deletion-del-attack";
        var version = 1L;
        if (forgery != "quorum-without-approvals")
        {
            var (signer, signature) = forgery switch
            {
                "zero-signature" => ("bob", new string('0', 128)),
                "signed-over-another-request" => ("bob", Sign("bob", SigningPayload.For(vaultId, SignedAction.Approve, "del-other", SigningPayload.TargetsDigest(["s1"])))),
                _ => ("mallory", Sign(null, SigningPayload.For(vaultId, SignedAction.Approve, "del-attack", SigningPayload.TargetsDigest(["s1"])))),
            };
            await _backdoor.AppendAsync(stream, version++, RequestApproved.EventType, Json(new RequestApproved("del-attack", signer, signature, at)), at);
        }

        await _backdoor.AppendAsync(stream, version, RequestQuorumReached.EventType, Json(new RequestQuorumReached("del-attack", ["alice", "bob"], at - TimeSpan.FromDays(1), at)), at);
        var forged = forgery == "quorum-without-approvals" ? await PositionOfAsync(RequestQuorumReached.EventType) : await PositionOfAsync(RequestApproved.EventType);
        Assert.Equal(0, (await Run("log", "verify", "--chain-only")).ExitCode); // the chain alone is fooled
        _clock.Advance(TimeSpan.FromHours(3));

        var execute = await Run("request", "execute", "del-attack");
        var report = await VerifyJsonAsync();
        var restore = await Run("restore", "s1", "--to", _temp.Sub("restored"));

        Assert.Equal(11, execute.ExitCode);
        Assert.Contains("NoQuorum", execute.Error);
        Assert.Contains("1 of the 2 signatures", execute.Error);
        var findings = report.GetProperty("findings").EnumerateArray().ToList();
        Assert.Contains(findings, f => f.GetProperty("position").GetInt64() == forged);
        Assert.Contains(findings, f => f.GetProperty("rule").GetString() == (forgery == "quorum-without-approvals" ? "quorum" : "signature"));
        Assert.True(restore.ExitCode == 0, restore.Error);
        Assert.Equal("backup s1", await File.ReadAllTextAsync(Path.Combine(_temp.Sub("restored"), "a.txt")));
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task a_governance_change_appended_behind_the_service_is_never_in_force(string backend)
    {
        await SetUpAsync(backend, "s1");
        var rules = JsonDocument.Parse((await Run("governance", "show", "--json")).Output).RootElement;
        var attacker = new GovernanceDocument([new ApproverDocument("alice", _team.PublicKeys["alice"]), new ApproverDocument("mallory", PublicKeyOf(null))], 2, 60, 3600, 0);
        await _backdoor.AppendAsync("vault", 1, GovernanceChanged.EventType, Json(new GovernanceChanged("gov-forged", attacker, [], _clock.GetUtcNow())), _clock.GetUtcNow());
        var forged = await PositionOfAsync(GovernanceChanged.EventType);

        var request = await Run(["deletion", "request", "--set", "s1", "--reason", "attack", .. _team.As("alice")]);
        var report = await VerifyJsonAsync();

        Assert.NotEqual(JsonValueKind.Undefined, rules.ValueKind);
        Assert.Equal(6, request.ExitCode);
        Assert.Contains($"position {forged}", request.Error);
        Assert.Contains("not backed by its signatures", request.Error);
        Assert.Contains(report.GetProperty("findings").EnumerateArray(), f => f.GetProperty("position").GetInt64() == forged && f.GetProperty("rule").GetString() == "governance");
    }

    [Fact]
    public async Task an_execution_appended_on_an_approved_request_naming_another_set_deletes_nothing_and_is_named_by_verify()
    {
        // Root on the primary, once a quorum approved deleting s1: one record on that request's stream naming s2 instead.
        await SetUpAsync("sqlite", "s1", "s2");
        Assert.Equal(0, (await Run(["deletion", "request", "--set", "s1", "--reason", "old", "--id", "del-s1", .. _team.As("alice")])).ExitCode);
        Assert.Equal(0, (await Run(["request", "approve", "del-s1", .. _team.As("bob")])).ExitCode);
        _clock.Advance(TimeSpan.FromHours(2));
        var at = _clock.GetUtcNow();
        await _backdoor.AppendAsync("deletion-del-s1", 3, Core.Governance.RequestExecuted.EventType, Json(new Core.Governance.RequestExecuted("del-s1", ["s2"], [], at)), at);
        var forged = await PositionOfAsync(Core.Governance.RequestExecuted.EventType);

        var sets = JsonDocument.Parse((await Run("sets", "list", "--json")).Output).RootElement.EnumerateArray().ToDictionary(e => e.GetProperty("setId").GetString()!, e => e.GetProperty("state").GetString());
        var report = await VerifyJsonAsync();
        var execute = await Run("request", "execute", "del-s1");
        var after = JsonDocument.Parse((await Run("sets", "list", "--json")).Output).RootElement.EnumerateArray().ToDictionary(e => e.GetProperty("setId").GetString()!, e => e.GetProperty("state").GetString());

        Assert.Equal("sealed", sets["s2"]);
        Assert.Equal("sealed", sets["s1"]);
        Assert.Contains(report.GetProperty("findings").EnumerateArray(), f => f.GetProperty("position").GetInt64() == forged && f.GetProperty("rule").GetString() == "execution-targets");
        Assert.True(execute.ExitCode == 0, execute.Error); // the real execution still happens, on the signed target only
        Assert.Equal("deleted", after["s1"]);
        Assert.Equal("sealed", after["s2"]);
        Assert.Equal(0, (await Run("read-models", "verify")).ExitCode);
        Assert.Equal(0, (await Run("restore", "s2", "--to", _temp.Sub("s2-restored"))).ExitCode);
    }

    [Fact]
    public async Task a_hold_release_appended_behind_the_service_releases_nothing_and_is_named_by_verify()
    {
        await SetUpAsync("sqlite", "s1");
        Assert.Equal(0, (await Run(["hold", "place", "s1", "--hold", "case-1", "--reason", "court", .. _team.As("alice")])).ExitCode);
        var at = _clock.GetUtcNow();
        await _backdoor.AppendAsync("set-s1", 3, Core.Sets.LegalHoldReleased.EventType, Json(new Core.Sets.LegalHoldReleased("s1", "case-1", "rel-forged", at)), at);
        var forged = await PositionOfAsync(Core.Sets.LegalHoldReleased.EventType);
        Assert.Equal(0, (await Run(["deletion", "request", "--set", "s1", "--reason", "attack", "--id", "del-s1", .. _team.As("alice")])).ExitCode);
        Assert.Equal(0, (await Run(["request", "approve", "del-s1", .. _team.As("bob")])).ExitCode);
        _clock.Advance(TimeSpan.FromHours(2));

        var execute = await Run("request", "execute", "del-s1");
        var holds = await Run("hold", "list");
        var report = await VerifyJsonAsync();

        Assert.Equal(11, execute.ExitCode);
        Assert.Contains("LegalHold", execute.Error);
        Assert.Contains("case-1", holds.Output);
        Assert.Contains(report.GetProperty("findings").EnumerateArray(), f => f.GetProperty("position").GetInt64() == forged && f.GetProperty("rule").GetString() == "hold");
    }

    [Theory]
    [InlineData("sqlite", "veto", false)]
    [InlineData("sqlite", "hold", false)]
    [InlineData("sqlite", "sealed", false)]
    [InlineData("sqlite", "genesis", false)]
    [InlineData("sqlite", "tail", false)]
    [InlineData("sqlite", "veto", true)]
    [InlineData("sqlite", "genesis", true)]
    [InlineData("postgres", "veto", false)]
    [InlineData("postgres", "hold", false)]
    [InlineData("postgres", "sealed", false)]
    [InlineData("postgres", "genesis", false)]
    [InlineData("postgres", "tail", false)]
    public async Task history_rewritten_with_the_chain_recomputed_is_caught_by_a_checkpoint_copy_that_left_the_primary(string backend, string rewrite, bool imagesOnly)
    {
        await SetUpAsync(backend, "s1", "s2");
        Assert.Equal(0, (await Run(["hold", "place", "s1", "--hold", "case-1", "--reason", "court", .. _team.As("alice")])).ExitCode);
        Assert.Equal(0, (await Run(["deletion", "request", "--set", "s2", "--reason", "cleanup", "--id", "del-s2", .. _team.As("alice")])).ExitCode);
        Assert.Equal(0, (await Run(["request", "approve", "del-s2", .. _team.As("bob")])).ExitCode);
        Assert.Equal(0, (await Run(["request", "veto", "del-s2", "--reason", "no", .. _team.As("carol")])).ExitCode);
        var configure = await Run("rotation", "configure");
        Assert.True(configure.ExitCode == 0, configure.Error);
        var run = await Run("rotation", "run");
        Assert.True(run.ExitCode is 0 or 12, run.Error);
        Assert.Equal(0, (await Run("log", "verify")).ExitCode);
        if (imagesOnly)
        {
            foreach (var copy in Directory.GetFiles(Path.Combine(_vault, "sites"), "checkpoint.json", SearchOption.AllDirectories))
                File.Delete(copy);
        }

        await _backdoor.RewriteAsync(records => rewrite switch
        {
            "veto" => [.. records.Where(r => r.EventType != RequestVetoed.EventType)],
            "hold" => [.. records.Where(r => r.EventType != Core.Sets.LegalHoldPlaced.EventType)],
            "sealed" => [.. records.Where(r => !(r.EventType == Core.Sets.SetSealed.EventType && r.StreamId == "set-s2"))],
            "genesis" => [ForgedGenesis(records[0]), .. records.Skip(1)],
            _ => [.. records.Take(records.Count - 3)],
        });
        if (rewrite == "genesis")
            UpdateManifestGenesis((await _backdoor.ReadAsync())[0].Hash);
        Assert.Equal(0, (await Run("log", "verify", "--chain-only")).ExitCode); // the chain alone is fooled

        var report = imagesOnly ? await VerifyJsonAsync("--images", Path.Combine(_vault, "sites")) : await VerifyJsonAsync();
        var text = await Run(["log", "verify", .. (imagesOnly ? new[] { "--images", Path.Combine(_vault, "sites") } : [])]);

        var copyFindings = report.GetProperty("findings").EnumerateArray().Where(f => f.GetProperty("rule").GetString() == "copy").ToList();
        Assert.NotEmpty(copyFindings);
        Assert.All(copyFindings, f => Assert.Contains(imagesOnly ? "image " : "site ", f.GetProperty("detail").GetString()));
        Assert.Equal(10, text.ExitCode);
        Assert.Contains("VIOLATION at position", text.Output);
    }

    [Fact]
    public async Task the_approver_a_governance_change_removes_cannot_veto_it_and_the_removal_executes_after_twice_the_delay()
    {
        await SetUpAsync("sqlite");
        var propose = await Run(["governance", "propose", "--remove-approver", "carol", "--reason", "carol's key was stolen", "--id", "gov-remove-carol", .. _team.As("alice")]);
        Assert.True(propose.ExitCode == 0, propose.Error);
        Assert.Equal(0, (await Run(["request", "approve", "gov-remove-carol", .. _team.As("bob")])).ExitCode);

        var veto = await Run(["request", "veto", "gov-remove-carol", "--reason", "mine", .. _team.As("carol")]);
        _clock.Advance(TimeSpan.FromHours(1.5));
        var early = await Run("request", "execute", "gov-remove-carol");
        _clock.Advance(TimeSpan.FromHours(0.6));
        var execute = await Run("request", "execute", "gov-remove-carol");
        var rules = JsonDocument.Parse((await Run("governance", "show", "--json")).Output).RootElement;
        var verify = await Run("log", "verify");

        Assert.Equal(11, veto.ExitCode);
        Assert.Contains("OwnRemoval", veto.Error);
        Assert.Equal(11, early.ExitCode);
        Assert.Contains("CoolingOff", early.Error);
        Assert.True(execute.ExitCode == 0, execute.Error);
        Assert.DoesNotContain("carol", Approvers(rules));
        Assert.True(verify.ExitCode == 0, verify.Output);
    }

    [Fact]
    public async Task a_rotation_run_dated_in_the_future_is_refused_and_erases_nothing()
    {
        await SetUpAsync("sqlite", "s1");
        Assert.Equal(0, (await Run("rotation", "configure")).ExitCode);
        Assert.Equal(0, (await Run("rotation", "run")).ExitCode);
        var media = (await Run("media", "list", "--json")).Output;

        var future = await Run("rotation", "run", "--date", "2028-06-01", "--courier");
        var plan = await Run("rotation", "plan", "--date", "2028-06-01");

        Assert.Equal(2, future.ExitCode);
        Assert.Contains("acts on today (2026-11-23) only", future.Error);
        Assert.Equal(media, (await Run("media", "list", "--json")).Output);
        Assert.Equal(0, plan.ExitCode);
    }

    [Fact]
    public async Task a_tape_swapped_in_transit_for_another_valid_image_is_not_received()
    {
        await SetUpAsync("sqlite", "s1");
        Assert.Equal(0, (await Run("rotation", "configure")).ExitCode);
        Assert.Equal(0, (await Run("rotation", "run")).ExitCode);
        _clock.Advance(TimeSpan.FromDays(1));
        var source = _temp.Sub("src-s2");
        Directory.CreateDirectory(source);
        await File.WriteAllTextAsync(Path.Combine(source, "b.txt"), "night two");
        Assert.Equal(0, (await Run("push", source, "--set", "s2", "--source", "web")).ExitCode);
        Assert.Equal(0, (await Run("rotation", "run")).ExitCode);
        var images = Directory.GetFiles(Path.Combine(_vault, "sites"), "D*.vtape", SearchOption.AllDirectories).Order().ToArray();
        Assert.True(images.Length >= 2, string.Join(", ", images));
        var first = Path.GetFileNameWithoutExtension(images[0]);
        var ship = await Run("media", "ship", first, "--to", "offsite-a");
        Assert.True(ship.ExitCode == 0, ship.Error);
        var inTransit = Path.Combine(_vault, "sites", "in-transit", first + ".vtape");

        File.Copy(images[1], inTransit, overwrite: true); // a valid image, but not the one written to this medium
        var receive = await Run("media", "receive", first);

        Assert.Equal(6, receive.ExitCode);
        Assert.Contains($"The image of {first}", receive.Error);
        Assert.Contains("not the one written", receive.Error);
        Assert.True(File.Exists(inTransit));
    }

    [Fact]
    public async Task a_genesis_edited_into_invalid_json_is_named_by_verify_with_exit_10_not_a_crash()
    {
        await SetUpAsync("sqlite", "s1");
        await _backdoor.RewriteAsync(records => [records[0] with { Payload = "{\"vaultId\": broken"u8.ToArray() }, .. records.Skip(1)]);
        UpdateManifestGenesis((await _backdoor.ReadAsync())[0].Hash);

        var verify = await Run("log", "verify");

        Assert.Equal(10, verify.ExitCode);
        Assert.Contains("VIOLATION at position 1 (malformed)", verify.Output);
        verify.AssertNoStackTrace();
    }

    private static string[] Approvers(JsonElement show) =>
        [.. show.GetProperty("rules").GetProperty("approvers").EnumerateArray().Select(a => a.GetProperty("id").GetString()!)];

    private Core.Log.EventRecord ForgedGenesis(Core.Log.EventRecord genesis)
    {
        var created = JsonSerializer.Deserialize<Core.Vaults.VaultCreated>(genesis.Payload)!;
        var rules = new GovernanceDocument([new ApproverDocument("alice", _team.PublicKeys["alice"]), new ApproverDocument("mallory", PublicKeyOf(null))], 2, 60, 3600, 0);
        return genesis with { Payload = JsonSerializer.SerializeToUtf8Bytes(created with { Governance = rules }) };
    }

    private void UpdateManifestGenesis(byte[] hash)
    {
        var path = Path.Combine(_vault, "vault.json");
        var manifest = JsonSerializer.Deserialize<Storage.VaultManifest>(File.ReadAllText(path))!;
        File.Delete(path);
        (manifest with { GenesisHash = Convert.ToHexStringLower(hash) }).Write(_vault);
    }

    private string VaultManifestId() => Storage.VaultManifest.Read(_vault).VaultId;

    private static readonly (byte[] Private, byte[] Public) Mallory = Ed25519.CreateKeyPair();

    private string Sign(string? approver, byte[] text)
    {
        var key = approver is null ? Mallory.Private : ApproverKeyFile.Open(File.ReadAllBytes(_team.KeyFile(approver)), File.ReadAllLines(_team.PasswordFile)[0]).PrivateKey;
        return Convert.ToHexStringLower(Ed25519.Sign(key, text));
    }

    private static string PublicKeyOf(string? _) => Convert.ToHexStringLower(Mallory.Public);
}
