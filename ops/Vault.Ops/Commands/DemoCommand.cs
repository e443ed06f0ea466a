using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Vault.Core.Errors;

namespace Vault.Ops.Commands;

/// <summary>
/// vault demo: the whole story on embedded defaults, in emulated time. Every step runs the real 'vault' commands
/// in this process against a new vault in a work directory; only the calendar is emulated (a clock the demo advances).
/// </summary>
public static class DemoCommand
{
    private static readonly Option<string?> Work = new("--work") { Description = "A new or empty directory for the demo's vault, keys, source copy and restores (default: a new temporary directory).", HelpName = "DIR" };
    private static readonly Option<string?> SourceDirectory = new("--source") { Description = "A real directory to back up (copied first, so the demo's nightly changes never touch it; at most 500 MB). Default: a generated tree.", HelpName = "DIR" };
    private static readonly Option<int> Nights = new("--nights") { Description = "How many nights to emulate.", DefaultValueFactory = _ => 40, HelpName = "N" };

    /// <summary>The demo's calendar: starts at the real time and moves only when the demo advances it.</summary>
    private sealed class DemoClock(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset _now = start;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }

    public static Command Create(CliContext context)
    {
        var command = new Command("demo", """
            The whole story in under a minute, with nothing else running: three approvers make keys and a vault that
            needs two of them; a directory is backed up every night for 40 emulated days while it changes; media rotate
            across three sites (daily on site, weekly to offsite-a, monthly to offsite-b); an attacker holding one key
            and the vault's files fails to delete anything; the primary site is lost and the newest sets are restored
            from the surviving tape images, byte-exact; the log is verified.
            """)
        { Work, SourceDirectory, Nights };
        command.SetAction((parse, ct) => RunAsync(parse, context, ct));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, CliContext context, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var work = parse.GetValue(Work) ?? Directory.CreateTempSubdirectory("vault-demo-").FullName;
        if (Directory.Exists(work) && Directory.EnumerateFileSystemEntries(work).Any())
            throw new VaultConfigurationException($"{work} is not empty; the demo needs a new or empty directory.");
        Directory.CreateDirectory(work);
        var nights = Math.Clamp(parse.GetValue(Nights), 8, 400);
        var clock = new DemoClock(new DateTimeOffset(context.Clock.GetUtcNow().UtcDateTime.Date.AddHours(21), TimeSpan.Zero));
        var environment = new Dictionary<string, string?>
        {
            ["VAULT_DIR"] = Path.Combine(work, "vault"),
            ["VAULT_KEY_PASSWORD"] = "demo-only-password",
            ["XDG_CACHE_HOME"] = Path.Combine(work, "cache"),
        };
        var output = context.Output;

        async Task<(int Code, string Out, string Err)> Vault(params string[] args)
        {
            var (o, e) = (new StringWriter(), new StringWriter());
            var code = await VaultCli.RunAsync(args, new CliContext(o, e, clock, name => environment.TryGetValue(name, out var v) ? v : context.Environment(name)), ct);
            return (code, o.ToString(), e.ToString());
        }

        async Task<string> Must(params string[] args)
        {
            var (code, o, e) = await Vault(args);
            if (code != 0)
                throw new DemoStepFailedException($"'vault {string.Join(' ', args)}' exited {code}: {e.Trim()}");
            return o;
        }

        output.WriteLine($"vault demo: {nights} emulated nights on embedded defaults (SQLite log, in-memory transport, local segment store) in {work}");
        output.WriteLine();
        output.WriteLine("== 1. three approvers make their keys; the vault needs 2 of them to delete anything");
        var approvers = new List<string>();
        foreach (var who in new[] { "alice", "bob", "carol" })
            approvers.AddRange(["--approver", (await Must("approver", "keygen", "--name", who, "--out", Path.Combine(work, who + ".vaultkey"), "--kdf-memory", "16", "--kdf-passes", "1")).Trim()]);
        await Must([.. new[] { "init" }, .. approvers, "--quorum", "2", "--min-retention", "7d"]);
        output.WriteLine((await Must("governance", "show")).Split('\n')[1].Trim());

        output.WriteLine();
        output.WriteLine("== 2. rotation: daily incrementals stay on site, weekly fulls go to offsite-a, monthly fulls to offsite-b");
        // The off-site sites keep their images outside the vault directory (in production: their own mounts, their own
        // custodians), so losing the primary does not take them along; media in transit are lost with the primary.
        var policy = Rotation.Core.RotationPolicy.Default() with
        {
            Sites = [.. Rotation.Core.RotationPolicy.Default().Sites.Select(s => s.Offsite ? s with { Root = Path.Combine(work, s.Name) } : s)],
        };
        var policyFile = Path.Combine(work, "rotation-policy.json");
        await File.WriteAllTextAsync(policyFile, policy.ToJson(), ct);
        output.Write(await Must("rotation", "configure", "--policy", policyFile));

        var source = Path.Combine(work, "source");
        var given = parse.GetValue(SourceDirectory);
        if (given is not null)
            CopyTree(given, source);
        else
            GenerateTree(source);
        output.WriteLine();
        output.WriteLine($"== 3. {nights} nights: back up {(given ?? "a generated tree")} ({Size(source) / 1e6:N1} MB) after the day's changes, then rotate media");
        var random = new Random(42);
        for (var night = 1; night <= nights; night++)
        {
            if (night > 1)
                Change(source, random, night);
            var set = $"night-{night:D2}";
            var push = JsonDocument.Parse(await Must("push", source, "--set", set, "--source", "demo-host", "--json")).RootElement;
            var run = await Must("rotation", "run", "--courier", "--label-new-media");
            var wrote = string.Join("; ", run.Split('\n').Where(l => l.StartsWith("wrote", StringComparison.Ordinal)).Select(l => l[9..l.IndexOf(' ', 9)] + " on " + l[(l.LastIndexOf(" on ", StringComparison.Ordinal) + 4)..]));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"   {set} {clock.GetUtcNow():yyyy-MM-dd ddd}: {push.GetProperty("files").GetInt64() - push.GetProperty("filesUnchanged").GetInt64(),3} of {push.GetProperty("files").GetInt64()} files read, {push.GetProperty("bytesSent").GetInt64() / 1e6,6:N2} MB sent{(wrote.Length > 0 ? "; wrote " + wrote : "")}"));
            if (night < nights)
                clock.Advance(TimeSpan.FromDays(1));
        }

        output.WriteLine();
        output.Write(await Must("sites", "list"));

        output.WriteLine();
        output.WriteLine("== 4. an attacker with alice's key and the vault's files tries to delete every backup");
        var everything = Enumerable.Range(1, nights).SelectMany(n => new[] { "--set", $"night-{n:D2}" }).ToArray();
        var alice = new[] { "--key", Path.Combine(work, "alice.vaultkey") };
        var mallory = (await Must("approver", "keygen", "--name", "mallory", "--out", Path.Combine(work, "mallory.vaultkey"), "--kdf-memory", "16", "--kdf-passes", "1")).Trim();
        await Must([.. new[] { "deletion", "request" }, .. everything, "--reason", "cleanup", "--id", "del-attack", .. alice]);
        await Must(["governance", "propose", "--add-approver", mallory, "--reason", "new colleague", "--id", "gov-attack", .. alice]);
        output.WriteLine($"   alice's key signed a request to delete all {nights} sets (del-attack) and one to add the attacker's own approver (gov-attack)");
        string[][] attempts =
        [
            ["deletion", "approve", "del-attack", .. alice],
            ["deletion", "execute", "del-attack"],
            ["request", "approve", "gov-attack", "--key", Path.Combine(work, "mallory.vaultkey")],
            ["request", "execute", "gov-attack"],
        ];
        foreach (var attempt in attempts)
        {
            var (code, _, err) = await Vault(attempt);
            output.WriteLine($"   vault {string.Join(' ', attempt.TakeWhile(a => a != "--key"))}: exit {code}: {err.Trim().Replace("vault: ", "", StringComparison.Ordinal)}");
        }

        output.WriteLine();
        output.WriteLine("== 5. the primary site burns down tonight (vault store, daily tapes and alice's key with it): restore from the surviving images");
        var drillDirectory = Path.Combine(work, "drill");
        output.Write(await Must("drill", "site-loss", "primary", "--with-key-loss", "alice", "--execute", drillDirectory, "--newest"));
        var restoredSet = Directory.GetDirectories(drillDirectory).Select(Path.GetFileName).Single()!;
        await Must("restore", restoredSet, "--to", Path.Combine(work, "from-vault"));
        var identical = SameTree(Path.Combine(drillDirectory, restoredSet), Path.Combine(work, "from-vault"));
        output.WriteLine($"   {restoredSet} restored from the images is {(identical ? "byte-for-byte identical to" : "DIFFERENT from")} the vault's own copy");

        output.WriteLine();
        output.WriteLine("== 6. the log: every write, move, refusal and drill, hash-chained");
        output.Write(await Must("log", "verify"));
        output.WriteLine();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"demo finished in {watch.Elapsed.TotalSeconds:N0} s; everything is in {work} (vault/ with the primary's tapes in vault/sites/primary, offsite-a/ and offsite-b/ with the off-site tapes, drill/)"));
        return identical ? ExitCodes.Ok : ExitCodes.IntegrityViolation;
    }

    private sealed class DemoStepFailedException(string message) : VaultException(message)
    {
        public override FailureKind Kind => FailureKind.Refused;
    }

    private static readonly string[] Words = ["vault", "backup", "tape", "site", "quorum", "rotation", "restore", "segment", "ledger", "courier", "drill", "approver", "retention", "chain", "weekly", "monthly"];

    private static void GenerateTree(string root)
    {
        var random = new Random(7);
        for (var d = 0; d < 4; d++)
        {
            var dir = Path.Combine(root, $"project-{d}", "src");
            Directory.CreateDirectory(dir);
            for (var f = 0; f < 8; f++)
                File.WriteAllText(Path.Combine(dir, $"file-{f}.txt"), Text(random, 2_000 + random.Next(40_000)));
        }

        Directory.CreateDirectory(Path.Combine(root, "data"));
        for (var b = 0; b < 3; b++)
        {
            var bytes = new byte[3_000_000];
            random.NextBytes(bytes);
            File.WriteAllBytes(Path.Combine(root, "data", $"blob-{b}.bin"), bytes);
        }

        File.WriteAllText(Path.Combine(root, "empty.txt"), "");
        if (!OperatingSystem.IsWindows())
            File.CreateSymbolicLink(Path.Combine(root, "latest"), "data/blob-0.bin");
    }

    /// <summary>A day's work: a few text files edited, sometimes a new file, every week a binary rewritten in part.</summary>
    private static void Change(string root, Random random, int night)
    {
        var texts = Directory.GetFiles(root, "*.txt", SearchOption.AllDirectories).Where(f => new FileInfo(f).Length > 0).Order(StringComparer.Ordinal).ToArray();
        for (var i = 0; i < 2 && texts.Length > 0; i++)
            File.AppendAllText(texts[random.Next(texts.Length)], Text(random, 300));
        if (night % 5 == 0)
            File.WriteAllText(Path.Combine(root, $"notes-{night:D2}.txt"), Text(random, 5_000));
        var blobs = Directory.GetFiles(root, "*.bin", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
        if (night % 7 == 0 && blobs.Length > 0)
        {
            using var blob = new FileStream(blobs[random.Next(blobs.Length)], FileMode.Open, FileAccess.Write);
            var patch = new byte[200_000];
            random.NextBytes(patch);
            blob.Position = random.Next((int)Math.Max(1, blob.Length - patch.Length));
            blob.Write(patch);
        }
    }

    private static string Text(Random random, int length)
    {
        var text = new StringBuilder(length + 16);
        while (text.Length < length)
            text.Append(Words[random.Next(Words.Length)]).Append(random.Next(12) == 0 ? ".\n" : " ");
        return text.ToString();
    }

    private static void CopyTree(string from, string to)
    {
        if (!Directory.Exists(from))
            throw new VaultConfigurationException($"{from} is not a directory.");
        if (Size(from) > 500_000_000)
            throw new VaultConfigurationException($"{from} holds more than 500 MB; the demo copies its source first, so give it something smaller.");
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories).Prepend(from))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var info = new FileInfo(file);
            if (info.LinkTarget is null)
                File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
        }
    }

    private static long Size(string root) =>
        Directory.GetFiles(root, "*", SearchOption.AllDirectories).Select(f => new FileInfo(f)).Where(f => f.LinkTarget is null).Sum(f => f.Length);

    private static bool SameTree(string a, string b)
    {
        var filesA = Directory.GetFiles(a, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(a, f)).Order(StringComparer.Ordinal).ToArray();
        var filesB = Directory.GetFiles(b, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(b, f)).Order(StringComparer.Ordinal).ToArray();
        return filesA.SequenceEqual(filesB) && filesA.All(f =>
            new FileInfo(Path.Combine(a, f)).LinkTarget == new FileInfo(Path.Combine(b, f)).LinkTarget
            && (new FileInfo(Path.Combine(a, f)).LinkTarget is not null || File.ReadAllBytes(Path.Combine(a, f)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(b, f)))));
    }
}
