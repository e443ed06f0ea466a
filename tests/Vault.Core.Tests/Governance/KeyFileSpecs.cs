using Vault.Core.Governance;

namespace Vault.Core.Tests.Governance;

public sealed class KeyFileSpecs
{
    private static readonly ApproverKeyFile.Argon2Cost Cheap = new(8 * 1024, 1);

    [Fact]
    public void a_new_key_file_is_sealed_with_argon2id_and_opens_with_its_password_only()
    {
        var (privateKey, _) = Ed25519.CreateKeyPair();

        var file = ApproverKeyFile.SealArgon2id("alice", privateKey, "correct horse", Cheap);

        Assert.Equal(ApproverKeyFile.Argon2id, ApproverKeyFile.KdfOf(file));
        Assert.Equal(privateKey, ApproverKeyFile.Open(file, "correct horse").PrivateKey);
        Assert.Contains("Wrong password", Assert.Throws<KeyFileException>(() => ApproverKeyFile.Open(file, "wrong horse")).Message);
    }

    [Fact]
    public void a_key_file_made_with_pbkdf2_before_argon2id_is_still_read()
    {
        var (privateKey, _) = Ed25519.CreateKeyPair();

        var old = ApproverKeyFile.Seal("bob", privateKey, "pw", ApproverKeyFile.MinimumIterations);

        Assert.Equal(ApproverKeyFile.Pbkdf2, ApproverKeyFile.KdfOf(old));
        var (approver, opened) = ApproverKeyFile.Open(old, "pw");
        Assert.Equal("bob", approver.Value);
        Assert.Equal(privateKey, opened);
    }

    [Fact]
    public void an_argon2id_file_whose_cost_was_edited_does_not_open()
    {
        var (privateKey, _) = Ed25519.CreateKeyPair();
        var file = System.Text.Encoding.UTF8.GetString(ApproverKeyFile.SealArgon2id("carol", privateKey, "pw", Cheap));

        var edited = System.Text.Encoding.UTF8.GetBytes(file.Replace("\"memoryKiB\": 8192", "\"memoryKiB\": 16384", StringComparison.Ordinal));

        Assert.Throws<KeyFileException>(() => ApproverKeyFile.Open(edited, "pw"));
    }
}
