using System.CommandLine;
using System.Text.Json;
using Rotation.Custodian;
using Rotation.Service;
using Rotation.Service.Custodians;
using Vault.Core.Errors;

namespace Vault.Ops.Commands;

/// <summary>vault site init|credential|serve|verify: the custodian of an off-site site, run there under its own account (docs/sites.md).</summary>
public static class SiteCommands
{
    private static readonly Option<string> SiteName = new("--site") { Description = "The site this custodian keeps, as the vault's rotation policy names it (e.g. offsite-a).", Required = true, HelpName = "SITE" };
    private static readonly Option<string> Root = new("--root") { Description = "The custodian's own directory (its storage, not the primary's): images, journal, checkpoints.", Required = true, HelpName = "DIR" };
    private static readonly Option<string> Credential = new("--credential") { Description = "A name for the credential, as the journal records who asked.", DefaultValueFactory = _ => "primary", HelpName = "NAME" };
    private static readonly Option<FileInfo?> TokenFile = new("--token-file") { Description = "Write the credential's token to this new file (mode 600) instead of printing it; give it to the primary as the site's credentialFile.", HelpName = "FILE" };
    private static readonly Option<string> Listen = new("--listen") { Description = "Where to listen: http://HOST:PORT, or https://HOST:PORT with --certificate. Port 0 picks a free one (printed).", DefaultValueFactory = _ => "http://127.0.0.1:7401", HelpName = "URL" };
    private static readonly Option<FileInfo?> Certificate = new("--certificate") { Description = "A PKCS#12 (.pfx) certificate for HTTPS; its password from $VAULT_CERTIFICATE_PASSWORD.", HelpName = "FILE" };

    public static IEnumerable<Command> Create(CliContext context)
    {
        var init = new Command("init", """
            Create a custodian root for one site, with one credential for the primary. The token is shown once (or
            written to --token-file) and never stored: the custodian keeps only its SHA-256. Run this at the site,
            under the custodian's own account, on storage the primary cannot reach.

            Example:
              vault site init --site offsite-a --root /srv/custodian --token-file /tmp/offsite-a.token
            """)
        { SiteName, Root, Credential, TokenFile };
        init.SetAction(parse =>
        {
            var root = Path.GetFullPath(parse.GetValue(Root)!);
            var site = parse.GetValue(SiteName)!;
            if (!CustodianProtocol.IsName(site, 64))
                throw new VaultConfigurationException($"--site '{site}' must be letters, digits and '-'.");
            var token = CustodianConfig.Create(root, site, parse.GetValue(Credential)!);
            return Issued(parse, context, root, site, parse.GetValue(Credential)!, token);
        });

        var credential = new Command("credential", "Issue another credential for this custodian (e.g. a new primary after a rebuild); the same rights: deposit, read back, extend, return after retention.")
        { Root, Credential, TokenFile };
        credential.SetAction(parse =>
        {
            var root = Path.GetFullPath(parse.GetValue(Root)!);
            var token = CustodianConfig.AddCredential(root, parse.GetValue(Credential)!);
            return Issued(parse, context, root, CustodianConfig.Load(root).Site, parse.GetValue(Credential)!, token);
        });

        var serve = new Command("serve", """
            Run the custodian of one site: it receives images with their facts (hashing them as they arrive) and keeps
            them write-once; it gives none back or erases any before the retain-until it accepted, by its own clock,
            whoever asks; it keeps every checkpoint it is sent and serves the latest; it journals everything. Stop with
            Ctrl-C or SIGTERM. Exit codes: docs/cli.md.

            Example:
              vault site serve --site offsite-a --root /srv/custodian --listen http://0.0.0.0:7401
            """)
        { SiteName, Root, Listen, Certificate };
        serve.SetAction(async (parse, ct) =>
        {
            var root = Path.GetFullPath(parse.GetValue(Root)!);
            using var store = CustodianStore.Open(root, context.Clock);
            if (store.Site != parse.GetValue(SiteName))
                throw new VaultConfigurationException($"{root} keeps site {store.Site}, not {parse.GetValue(SiteName)}; check --site and --root.");
            var listen = parse.GetValue(Listen)!;
            if (!Uri.TryCreate(listen, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
                throw new VaultConfigurationException($"--listen '{listen}' must be http://HOST:PORT or https://HOST:PORT.");
            var certificate = parse.GetValue(Certificate);
            if (url.Scheme == "https" && certificate is null)
                throw new VaultConfigurationException("--listen https:// needs --certificate FILE.pfx.");
            await using var app = CustodianServer.Build(store, listen, certificate?.FullName, context.Environment("VAULT_CERTIFICATE_PASSWORD"));
            try
            {
                await app.StartAsync(ct);
            }
            catch (IOException ex)
            {
                throw new StorageUnavailableException($"Cannot listen on {listen} ({ex.Message}); pick another --listen address.", ex);
            }

            context.Error.WriteLine($"custodian of {store.Site} ({root}) listening on {string.Join(", ", CustodianServer.Addresses(app))}; journal at {store.Journal.Count} entries; Ctrl-C or SIGTERM stops it.");
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                context.Error.WriteLine("stopping: requests in hand finish first.");
            }

            await app.StopAsync(CancellationToken.None);
            return ExitCodes.Ok;
        });

        var verify = new Command("verify", """
            Check a custodian root on the spot: the journal's hash chain, line by line, and every image held against the
            SHA-256 it was accepted with. Exit 0 when all holds, 10 when anything was rewritten or damaged.
            """)
        { Root };
        verify.SetAction(async (parse, ct) =>
        {
            var root = Path.GetFullPath(parse.GetValue(Root)!);
            var config = CustodianConfig.Load(root);
            var (head, count, problem) = CustodianJournal.Verify(Path.Combine(root, CustodianJournal.FileName));
            var problems = problem is null ? new List<string>() : [$"journal: {problem}"];
            var images = 0;
            foreach (var factsPath in Directory.EnumerateFiles(Path.Combine(root, "images"), "*.json").Order(StringComparer.Ordinal))
            {
                var facts = JsonSerializer.Deserialize<ImageFacts>(await File.ReadAllBytesAsync(factsPath, ct), CustodianProtocol.Json)!;
                var image = Path.ChangeExtension(factsPath, SiteLayout.Extension);
                images++;
                if (!File.Exists(image))
                {
                    problems.Add($"{facts.Label}: the image is missing");
                    continue;
                }

                await using var input = new FileStream(image, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
                var actual = Convert.ToHexStringLower(await System.Security.Cryptography.SHA256.HashDataAsync(input, ct));
                if (actual != facts.Sha256)
                    problems.Add($"{facts.Label}: SHA-256 {actual}, accepted as {facts.Sha256}");
            }

            if (parse.GetValue(GlobalOptions.Json))
                context.WriteJson(new { site = config.Site, journal = new { entries = count, head }, images, problems });
            else
            {
                context.Output.WriteLine($"custodian of {config.Site}: journal {count} entries (head {head}), {images} images");
                foreach (var p in problems)
                    context.Output.WriteLine($"PROBLEM {p}");
                context.Output.WriteLine(problems.Count == 0 ? "all holds" : $"{problems.Count} problems: keep this root as it is and examine it");
            }

            return problems.Count == 0 ? ExitCodes.Ok : ExitCodes.IntegrityViolation;
        });

        return [init, credential, serve, verify];
    }

    private static int Issued(ParseResult parse, CliContext context, string root, string site, string name, string token)
    {
        var file = parse.GetValue(TokenFile);
        if (file is not null)
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            try
            {
                using var writer = new StreamWriter(file.FullName, System.Text.Encoding.ASCII, options);
                writer.WriteLine(token);
            }
            catch (IOException ex) when (File.Exists(file.FullName))
            {
                throw new VaultAlreadyExistsException($"{file.FullName} already exists; the token was not written (and is not kept). Issue another with 'vault site credential --root {root} --credential {name}-2 --token-file NEWFILE'. ({ex.Message})");
            }
        }

        if (parse.GetValue(GlobalOptions.Json))
            context.WriteJson(new { site, root, credential = name, tokenFile = file?.FullName, token = file is null ? token : null });
        else
        {
            context.Output.WriteLine($"custodian root {root} keeps site {site}; credential '{name}' issued.");
            context.Output.WriteLine(file is null ? $"token (shown once, not stored): {token}" : $"token written to {file.FullName} (shown nowhere else, not stored)");
            context.Output.WriteLine($"On the primary: put it in a file and name it in the policy's site: \"url\": \"http://THIS-HOST:7401\", \"credentialFile\": \"/etc/vault/{site}.token\".");
        }

        return ExitCodes.Ok;
    }
}
