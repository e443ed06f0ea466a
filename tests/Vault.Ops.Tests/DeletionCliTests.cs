using System.Text.Json;

namespace Vault.Ops.Tests;

/// <summary>The deletion workflow through the real CLI: key files, signatures, quorum, veto, and refused attempts in the log.</summary>
public sealed class DeletionCliTests : IDisposable
{
    private readonly TempDir _temp = new();

    public void Dispose() => _temp.Dispose();

    private async Task<(TestApprovers Approvers, string Vault)> VaultWithApproversAsync(params string[] extra)
    {
        var approvers = await TestApprovers.CreateAsync(_temp.Sub("keys"), "alice", "bob", "carol");
        var vault = _temp.Sub("vault");
        var init = await approvers.InitAsync(vault, extra);
        Assert.True(init.ExitCode == 0, init.Error);
        var source = _temp.Sub("source");
        Directory.CreateDirectory(source);
        await File.WriteAllTextAsync(Path.Combine(source, "f.txt"), "data");
        foreach (var set in new[] { "web-1", "web-2" })
            Assert.Equal(0, (await CliRun.RunAsync("push", source, "--set", set, "--source", "web", "--vault", vault)).ExitCode);
        return (approvers, vault);
    }

    [Fact]
    public async Task a_request_reaches_quorum_with_a_second_distinct_approver_and_then_cools_off()
    {
        var (keys, vault) = await VaultWithApproversAsync();

        var request = await CliRun.RunAsync([.. new[] { "deletion", "request", "--vault", vault, "--set", "web-1", "--set", "web-2", "--reason", "test", "--id", "del-1" }, .. keys.As("alice")]);
        var pending = await CliRun.RunAsync("deletion", "list", "--vault", vault, "--json");
        var approve = await CliRun.RunAsync([.. new[] { "deletion", "approve", "del-1", "--vault", vault }, .. keys.As("bob")]);
        var show = await CliRun.RunAsync("deletion", "show", "del-1", "--vault", vault, "--json");

        Assert.True(request.ExitCode == 0, request.Error);
        Assert.Equal("pending", JsonDocument.Parse(pending.Output).RootElement[0].GetProperty("state").GetString());
        Assert.True(approve.ExitCode == 0, approve.Error);
        var summary = JsonDocument.Parse(show.Output).RootElement.GetProperty("summary");
        Assert.Equal("cooling-off", summary.GetProperty("state").GetString());
        Assert.Equal(2, summary.GetProperty("approvals").GetInt32());
        Assert.Equal(["web-1", "web-2"], summary.GetProperty("sets").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(0, (await CliRun.RunAsync("log", "verify", "--vault", vault)).ExitCode);
    }

    [Fact]
    public async Task approving_ones_own_request_again_is_refused_with_exit_11_and_recorded()
    {
        var (keys, vault) = await VaultWithApproversAsync("--quorum", "3");
        await CliRun.RunAsync([.. new[] { "deletion", "request", "--vault", vault, "--set", "web-1", "--reason", "test", "--id", "del-1" }, .. keys.As("alice")]);

        var again = await CliRun.RunAsync([.. new[] { "deletion", "approve", "del-1", "--vault", vault }, .. keys.As("alice")]);
        var show = await CliRun.RunAsync("deletion", "show", "del-1", "--vault", vault);

        Assert.Equal(11, again.ExitCode);
        Assert.Contains("DuplicateApproval", again.Error);
        Assert.Contains("refused", show.Output);
        Assert.Contains("alice approve: DuplicateApproval", show.Output);
        Assert.Contains("pending, 1 of 3 approvals", show.Output);
    }

    [Fact]
    public async Task a_veto_is_final_and_later_approvals_are_refused()
    {
        var (keys, vault) = await VaultWithApproversAsync("--quorum", "3");
        await CliRun.RunAsync([.. new[] { "deletion", "request", "--vault", vault, "--set", "web-1", "--reason", "test", "--id", "del-1" }, .. keys.As("alice")]);

        var veto = await CliRun.RunAsync([.. new[] { "deletion", "veto", "del-1", "--vault", vault, "--reason", "not agreed" }, .. keys.As("carol")]);
        var late = await CliRun.RunAsync([.. new[] { "deletion", "approve", "del-1", "--vault", vault }, .. keys.As("bob")]);

        Assert.True(veto.ExitCode == 0, veto.Error);
        Assert.Equal(11, late.ExitCode);
        Assert.Contains("vetoed", (await CliRun.RunAsync("deletion", "list", "--vault", vault)).Output);
    }

    [Fact]
    public async Task a_key_that_is_not_registered_is_refused_and_the_attempt_is_in_the_log()
    {
        var (keys, vault) = await VaultWithApproversAsync();
        var outsider = await TestApprovers.CreateAsync(_temp.Sub("outsider"), "mallory");
        await CliRun.RunAsync([.. new[] { "deletion", "request", "--vault", vault, "--set", "web-1", "--reason", "test", "--id", "del-1" }, .. keys.As("alice")]);

        var run = await CliRun.RunAsync([.. new[] { "deletion", "approve", "del-1", "--vault", vault }, .. outsider.As("mallory")]);
        var tail = await CliRun.RunAsync("log", "tail", "--vault", vault, "--json");

        Assert.Equal(11, run.ExitCode);
        Assert.Contains("not a registered approver", run.Error);
        var last = JsonDocument.Parse(tail.Output).RootElement.EnumerateArray().Last();
        Assert.Equal("RequestAttemptRefused.v1", last.GetProperty("eventType").GetString());
        Assert.Equal("mallory", last.GetProperty("payload").GetProperty("actor").GetString());
    }

    [Fact]
    public async Task a_wrong_password_or_a_file_that_is_not_a_key_exits_9_and_appends_nothing()
    {
        var (keys, vault) = await VaultWithApproversAsync();
        var wrong = _temp.Sub("wrong-password");
        await File.WriteAllTextAsync(wrong, "guess\n");
        var notAKey = _temp.Sub("not-a-key");
        await File.WriteAllTextAsync(notAKey, "hello");
        var head = JsonDocument.Parse((await CliRun.RunAsync("log", "verify", "--vault", vault, "--json")).Output).RootElement.GetProperty("checked").GetInt64();

        var badPassword = await CliRun.RunAsync("deletion", "request", "--vault", vault, "--set", "s", "--reason", "r", "--key", keys.KeyFile("alice"), "--password-file", wrong);
        var badFile = await CliRun.RunAsync("deletion", "request", "--vault", vault, "--set", "s", "--reason", "r", "--key", notAKey, "--password-file", keys.PasswordFile);

        Assert.Equal(9, badPassword.ExitCode);
        Assert.Contains("Wrong password", badPassword.Error);
        Assert.Equal(9, badFile.ExitCode);
        Assert.Contains("not an approver key file", badFile.Error);
        Assert.Equal(head, JsonDocument.Parse((await CliRun.RunAsync("log", "verify", "--vault", vault, "--json")).Output).RootElement.GetProperty("checked").GetInt64());
    }

    [Fact]
    public async Task init_refuses_a_quorum_of_one_or_a_single_approver()
    {
        var keys = await TestApprovers.CreateAsync(_temp.Sub("keys"), "alice", "bob");

        var quorumOne = await keys.InitAsync(_temp.Sub("v1"), "--quorum", "1");
        var oneApprover = await CliRun.RunAsync("init", "--vault", _temp.Sub("v2"), "--approver", $"alice={keys.PublicKeys["alice"]}");
        var noApprover = await CliRun.RunAsync("init", "--vault", _temp.Sub("v3"));

        Assert.Equal(2, quorumOne.ExitCode);
        Assert.Contains("at least 2", quorumOne.Error);
        Assert.Equal(2, oneApprover.ExitCode);
        Assert.Equal(2, noApprover.ExitCode);
        Assert.False(Directory.Exists(_temp.Sub("v1")));
    }

    [Fact]
    public async Task keygen_never_overwrites_a_key_file()
    {
        var keys = await TestApprovers.CreateAsync(_temp.Sub("keys"), "alice");
        var before = await File.ReadAllBytesAsync(keys.KeyFile("alice"));

        var again = await CliRun.RunAsync("approver", "keygen", "--name", "alice", "--out", keys.KeyFile("alice"), "--password-file", keys.PasswordFile, "--kdf-iterations", "10000");

        Assert.Equal(4, again.ExitCode);
        Assert.Equal(before, await File.ReadAllBytesAsync(keys.KeyFile("alice")));
    }

    [Fact]
    public async Task rekey_turns_an_old_pbkdf2_key_file_into_argon2id_under_a_new_password_and_it_still_signs()
    {
        var (keys, vault) = await VaultWithApproversAsync();
        var alice = keys.KeyFile("alice");
        var (id, privateKey) = Core.Governance.ApproverKeyFile.Open(await File.ReadAllBytesAsync(alice), File.ReadAllLines(keys.PasswordFile)[0]);
        await File.WriteAllBytesAsync(alice, Core.Governance.ApproverKeyFile.Seal(id, privateKey, File.ReadAllLines(keys.PasswordFile)[0], 10_000)); // as made before Argon2id
        await File.WriteAllTextAsync(_temp.Sub("new-password"), "a much longer new passphrase\n");

        var rekey = await CliRun.RunAsync("approver", "rekey", "--key", alice, "--password-file", keys.PasswordFile, "--new-password-file", _temp.Sub("new-password"), "--kdf-memory", "8", "--kdf-passes", "1");
        var oldPassword = await CliRun.RunAsync([.. new[] { "deletion", "request", "--vault", vault, "--set", "web-1", "--reason", "test" }, .. keys.As("alice")]);
        var newPassword = await CliRun.RunAsync("deletion", "request", "--vault", vault, "--set", "web-1", "--reason", "test", "--key", alice, "--password-file", _temp.Sub("new-password"));

        Assert.True(rekey.ExitCode == 0, rekey.Error);
        Assert.Equal(Core.Governance.ApproverKeyFile.Argon2id, Core.Governance.ApproverKeyFile.KdfOf(await File.ReadAllBytesAsync(alice)));
        Assert.Equal(9, oldPassword.ExitCode);
        Assert.True(newPassword.ExitCode == 0, newPassword.Error);
    }
}
