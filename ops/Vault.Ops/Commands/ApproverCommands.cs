using System.CommandLine;
using Vault.Core.Errors;
using Vault.Core.Governance;

namespace Vault.Ops.Commands;

/// <summary>vault approver keygen: a new Ed25519 key pair for one approver, the private half sealed under a password.</summary>
public static class ApproverCommands
{
    private static readonly Option<string> Name = new("--name") { Description = "The approver's id: lower-case letters, digits, '.', '_', '-'.", Required = true, HelpName = "ID" };
    private static readonly Option<FileInfo> Out = new("--out") { Description = "Where to write the key file (refuses to overwrite).", Required = true, HelpName = "FILE" };
    private static readonly Option<int?> Iterations = new("--kdf-iterations")
    {
        Description = "Seal with PBKDF2 and this many iterations instead of Argon2id (the format before Argon2id; for tests).",
        Hidden = true,
    };

    private static readonly Option<int> MemoryMiB = new("--kdf-memory")
    {
        Description = "Argon2id memory cost in MiB (default 64; at least 8). Deriving the key takes about this much memory, on purpose.",
        DefaultValueFactory = _ => 64,
        HelpName = "MIB",
    };

    private static readonly Option<int> Passes = new("--kdf-passes")
    {
        Description = "Argon2id passes over that memory (default 3).",
        DefaultValueFactory = _ => 3,
        HelpName = "N",
    };

    private static readonly Option<FileInfo> KeyToRekey = new("--key")
    {
        Description = "The key file to rewrite with Argon2id (and, with a new password, under it).",
        Required = true,
        HelpName = "FILE",
    };

    private static readonly Option<FileInfo?> NewPasswordFile = new("--new-password-file")
    {
        Description = "The new password from the first line of this file (default: keep the password).",
        HelpName = "FILE",
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
            Name, Out, KeyFiles.PasswordFile, Iterations, MemoryMiB, Passes,
        };
        keygen.SetAction(parse => Keygen(parse, context));

        var rekey = new Command("rekey", """
            Rewrite a key file with Argon2id (memory-hard; key files made before it use PBKDF2), optionally under a new
            password. The key itself does not change, so nothing changes in the vault. The old file is replaced only
            once the new one is written and reopens with the password.

            Example:
              vault approver rekey --key ~/alice.vaultkey --password-file old.txt --new-password-file new.txt
            """)
        {
            KeyToRekey, KeyFiles.PasswordFile, NewPasswordFile, MemoryMiB, Passes,
        };
        rekey.SetAction(parse => Rekey(parse, context));
        return new Command("approver", "Approver keys: the people whose signatures deletions and governance changes need.") { keygen, rekey };
    }

    private static ApproverKeyFile.Argon2Cost Cost(ParseResult parse)
    {
        var (memory, passes) = (parse.GetValue(MemoryMiB), parse.GetValue(Passes));
        if (memory is < 8 or > 4096 || passes is < 1 or > 100)
            throw new VaultConfigurationException("--kdf-memory takes 8 to 4096 MiB and --kdf-passes 1 to 100.");
        return new ApproverKeyFile.Argon2Cost(memory * 1024, passes);
    }

    private static int Rekey(ParseResult parse, CliContext context)
    {
        var file = parse.GetValue(KeyToRekey)!;
        if (!file.Exists)
            throw new KeyFileException($"The key file {file.FullName} does not exist.");
        var cost = Cost(parse);
        var (approver, privateKey) = ApproverKeyFile.Open(File.ReadAllBytes(file.FullName), KeyFiles.ReadPassword(parse, context));
        var password = parse.GetValue(NewPasswordFile) is { } newFile
            ? (newFile.Exists ? File.ReadLines(newFile.FullName).FirstOrDefault() ?? "" : throw new VaultConfigurationException($"The password file {newFile.FullName} does not exist."))
            : KeyFiles.ReadPassword(parse, context);
        var sealedKey = ApproverKeyFile.SealArgon2id(approver, privateKey, password, cost);
        ApproverKeyFile.Open(sealedKey, password); // reopens, or nothing is replaced
        var temp = file.FullName + ".rekey";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            stream.Write(sealedKey);
            stream.Flush(flushToDisk: true);
        }

        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temp, file.FullName, overwrite: true);
        if (parse.GetValue(GlobalOptions.Json))
            context.WriteJson(new { approver = approver.Value, keyFile = file.FullName, kdf = ApproverKeyFile.Argon2id, memoryMiB = cost.MemoryKiB / 1024, passes = cost.Passes });
        else
            context.Output.WriteLine($"{file.FullName} is now sealed with Argon2id ({cost.MemoryKiB / 1024} MiB, {cost.Passes} passes); {approver}'s key is unchanged.");
        return ExitCodes.Ok;
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
        var sealedKey = parse.GetValue(Iterations) is { } iterations
            ? ApproverKeyFile.Seal(id, privateKey, password, iterations)
            : ApproverKeyFile.SealArgon2id(id, privateKey, password, Cost(parse));
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
