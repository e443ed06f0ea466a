namespace Vault.Ops.Tests;

/// <summary>Approver key files made with the real 'vault approver keygen' (Argon2id at its smallest cost, to keep tests quick).</summary>
public sealed class TestApprovers
{
    private TestApprovers(string directory, string passwordFile, Dictionary<string, string> publicKeys)
    {
        Directory = directory;
        PasswordFile = passwordFile;
        PublicKeys = publicKeys;
    }

    public string Directory { get; }
    public string PasswordFile { get; }
    public IReadOnlyDictionary<string, string> PublicKeys { get; }

    public string KeyFile(string name) => Path.Combine(Directory, name + ".vaultkey");

    /// <summary>--approver arguments for 'vault init'.</summary>
    public string[] InitArguments => [.. PublicKeys.SelectMany(p => new[] { "--approver", $"{p.Key}={p.Value}" })];

    /// <summary>--key and --password-file arguments for one approver's command.</summary>
    public string[] As(string name) => ["--key", KeyFile(name), "--password-file", PasswordFile];

    public static async Task<TestApprovers> CreateAsync(string directory, params string[] names)
    {
        System.IO.Directory.CreateDirectory(directory);
        var passwordFile = Path.Combine(directory, "password");
        await File.WriteAllTextAsync(passwordFile, "correct horse battery staple\n");
        var keys = new Dictionary<string, string>();
        foreach (var name in names.Length > 0 ? names : ["alice", "bob", "carol"])
        {
            var run = await CliRun.RunAsync("approver", "keygen", "--name", name, "--out", Path.Combine(directory, name + ".vaultkey"),
                "--password-file", passwordFile, "--kdf-memory", "8", "--kdf-passes", "1");
            Assert.True(run.ExitCode == 0, run.Error);
            var line = run.Output.Trim().Split('=');
            keys[line[0]] = line[1];
        }

        return new TestApprovers(directory, passwordFile, keys);
    }

    /// <summary>A new vault at <paramref name="vault"/> with these approvers and a quorum of 2.</summary>
    public async Task<CliRun> InitAsync(string vault, params string[] extra) =>
        await CliRun.RunAsync([.. new[] { "init", "--vault", vault }, .. InitArguments, .. extra]);
}
