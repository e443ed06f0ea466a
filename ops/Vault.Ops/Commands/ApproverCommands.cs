using System.CommandLine;
using Vault.Core.Errors;
using Vault.Core.Governance;

namespace Vault.Ops.Commands;

/// <summary>vault approver keygen: a new Ed25519 key pair for one approver, the private half sealed under a password.</summary>
public static class ApproverCommands
{
    private static readonly Option<string> Name = new("--name") { Description = "The approver's id: lower-case letters, digits, '.', '_', '-'.", Required = true, HelpName = "ID" };
    private static readonly Option<FileInfo> Out = new("--out") { Description = "Where to write the key file (refuses to overwrite).", Required = true, HelpName = "FILE" };
    private static readonly Option<int> Iterations = new("--kdf-iterations")
    {
        Description = "PBKDF2 iterations protecting the key file.",
        DefaultValueFactory = _ => ApproverKeyFile.DefaultIterations,
        Hidden = true,
    };

    public static Command Create(CliContext context)
    {
        var keygen = new Command("keygen", """
            Create an approver key on this machine. The private key is written to --out, sealed with your password;
            the public key is printed as NAME=HEX, ready for 'vault init --approver'. Keep the key file off the vault's hosts.

            Example:
              vault approver keygen --name alice --out ~/alice.vaultkey
            """)
        {
            Name, Out, KeyFiles.PasswordFile, Iterations,
        };
        keygen.SetAction(parse => Keygen(parse, context));
        return new Command("approver", "Approver keys: the people whose signatures deletions and governance changes need.") { keygen };
    }

    private static int Keygen(ParseResult parse, CliContext context)
    {
        ApproverId id;
        try
        {
            id = new ApproverId(parse.GetValue(Name)!);
        }
        catch (ArgumentException ex)
        {
            throw new VaultConfigurationException(ex.Sentence());
        }

        var file = parse.GetValue(Out)!;
        if (file.Exists)
            throw new VaultAlreadyExistsException($"{file.FullName} already exists; a key file is never overwritten. Choose another --out.");
        var password = KeyFiles.ReadPassword(parse, context, confirm: true);
        var (privateKey, publicKey) = Ed25519.CreateKeyPair();
        var sealedKey = ApproverKeyFile.Seal(id, privateKey, password, parse.GetValue(Iterations));
        using (var stream = new FileStream(file.FullName, FileMode.CreateNew, FileAccess.Write))
        {
            stream.Write(sealedKey);
            stream.Flush(flushToDisk: true);
        }

        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(file.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var approver = $"{id}={Convert.ToHexStringLower(publicKey)}";
        if (parse.GetValue(GlobalOptions.Json))
            context.WriteJson(new { approver = id.Value, publicKey = Convert.ToHexStringLower(publicKey), keyFile = file.FullName, initArgument = approver });
        else
            context.Output.WriteLine(approver);
        return ExitCodes.Ok;
    }
}
