using System.CommandLine;
using Vault.Core.Errors;
using Vault.Core.Governance;

namespace Vault.Ops;

/// <summary>Reading approver key files and their passwords: --password-file, $VAULT_KEY_PASSWORD, or a prompt on a terminal.</summary>
public static class KeyFiles
{
    public const string PasswordVariable = "VAULT_KEY_PASSWORD";

    public static readonly Option<FileInfo?> PasswordFile = new("--password-file")
    {
        Description = $"Read the key file's password from the first line of this file (default: ${PasswordVariable}, else a prompt).",
        HelpName = "FILE",
    };

    public static readonly Option<FileInfo> Key = new("--key")
    {
        Description = "Your approver key file (from 'vault approver keygen'). It stays on your machine; only your signature enters the vault.",
        HelpName = "FILE",
        Required = true,
    };

    public static string ReadPassword(ParseResult parse, CliContext context, bool confirm = false)
    {
        if (parse.GetValue(PasswordFile) is { } file)
        {
            if (!file.Exists)
                throw new VaultConfigurationException($"The password file {file.FullName} does not exist.");
            return File.ReadLines(file.FullName).FirstOrDefault() ?? "";
        }

        if (context.Environment(PasswordVariable) is { Length: > 0 } fromEnvironment)
            return fromEnvironment;
        if (Console.IsInputRedirected)
            throw new VaultConfigurationException($"No password given: use --password-file FILE or set {PasswordVariable} (there is no terminal to ask on).");
        var password = Prompt(context, "Key file password: ");
        if (confirm && Prompt(context, "Again: ") != password)
            throw new VaultConfigurationException("The two passwords differ; nothing was written.");
        return password;
    }

    public static (ApproverId Approver, byte[] PrivateKey) Open(ParseResult parse, CliContext context)
    {
        var file = parse.GetValue(Key)!;
        if (!file.Exists)
            throw new KeyFileException($"The key file {file.FullName} does not exist.");
        return ApproverKeyFile.Open(File.ReadAllBytes(file.FullName), ReadPassword(parse, context));
    }

    private static string Prompt(CliContext context, string prompt)
    {
        context.Error.Write(prompt);
        var chars = new List<char>();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
                break;
            if (key.Key == ConsoleKey.Backspace && chars.Count > 0)
                chars.RemoveAt(chars.Count - 1);
            else if (!char.IsControl(key.KeyChar))
                chars.Add(key.KeyChar);
        }

        context.Error.WriteLine();
        return new string([.. chars]);
    }
}
