using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Rotation.Service;
using Rotation.Service.Custodians;
using Vault.Core.Checkpoints;
using Vault.Core.Governance;
using Vault.Core.Vaults;

/// <summary>
/// A real custodian process ('vault site serve') on loopback receives an image of N MiB three times (hashing it as it
/// arrives, fsync included) and serves it back; prints MB/s each way and the custodian's peak RSS. The reference in
/// the same run is sha256sum of the same file (the hash alone, from the page cache).
/// </summary>
public static class CustodianBenchmark
{
    public static async Task RunAsync(string vaultDll, int mib)
    {
        var work = Directory.CreateTempSubdirectory("vault-custodian-bench-").FullName;
        try
        {
            var image = Path.Combine(work, "image.vtape");
            var copy = SignedCheckpoint();
            await using (var output = File.Create(image))
            {
                TapeFormat.Write(output, TapeRecordType.Header, TapeFormat.JsonPayload(new TapeHeader(TapeHeader.CurrentFormat, copy.VaultId, "W00001", "weekly", "w-1", 0, 1, new DateOnly(2026, 12, 6), copy)));
                var block = RandomNumberGenerator.GetBytes(1 << 20);
                for (var i = 0; i < mib; i++)
                    TapeFormat.Write(output, TapeRecordType.SetMark, block);
                TapeFormat.Write(output, TapeRecordType.EndOfData, []);
            }

            var bytes = new FileInfo(image).Length;
            var sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(image)));
            var root = Path.Combine(work, "custodian");
            var token = await Vault("site", "init", "--site", "offsite-a", "--root", root, "--json");
            token = System.Text.Json.JsonDocument.Parse(token).RootElement.GetProperty("token").GetString()!;
            var serve = new ProcessStartInfo("dotnet") { RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { vaultDll, "site", "serve", "--site", "offsite-a", "--root", root, "--listen", "http://127.0.0.1:0" })
                serve.ArgumentList.Add(a);
            using var process = Process.Start(serve)!;
            string? url = null;
            while (url is null && await process.StandardError.ReadLineAsync() is { } line)
                url = System.Text.RegularExpressions.Regex.Match(line, @"listening on (http://[0-9.:]+)") is { Success: true } m ? m.Groups[1].Value : null;
            using var client = new CustodianClient("offsite-a", new Uri(url!), token);
            var today = DateOnly.FromDateTime(TimeProvider.System.GetUtcNow().UtcDateTime);
            var shaSeconds = await TimeAsync("openssl", "dgst", "-sha256", image);
            var ddSeconds = await TimeAsync("dd", $"if={image}", $"of={Path.Combine(work, "dd.out")}", "bs=1M", "conv=fsync");
            File.Delete(Path.Combine(work, "dd.out"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"custodian benchmark: image {bytes / 1e6:N0} MB over loopback, {Environment.ProcessorCount} cores, {today:yyyy-MM-dd}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"references in this run: openssl dgst -sha256 {bytes / 1e6 / shaSeconds:N0} MB/s (the hash alone); dd conv=fsync to the same disk {bytes / 1e6 / ddSeconds:N0} MB/s (the write alone)"));
            var deposits = new List<double>();
            for (var run = 1; run <= 5; run++)
            {
                var label = $"W0000{run}";
                // Each deposit is its own image (the header names the label), so rewrite the label in place: same length.
                await RelabelAsync(image, copy, label);
                sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(image)));
                var watch = Stopwatch.StartNew();
                await client.DepositAsync(image, label, "w-1", sha, today.AddDays(30), today, default);
                var deposit = watch.Elapsed.TotalSeconds;
                deposits.Add(bytes / 1e6 / deposit);
                watch.Restart();
                await client.DownloadAsync(label, sha, Path.Combine(work, $"back-{run}.vtape"), default);
                var read = watch.Elapsed.TotalSeconds;
                File.Delete(Path.Combine(work, $"back-{run}.vtape"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"run {run}: deposit {deposit:N2} s = {bytes / 1e6 / deposit:N0} MB/s (hashed on receipt, fsync); read back {read:N2} s = {bytes / 1e6 / read:N0} MB/s (hashed by the client)"));
            }

            deposits.Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"deposit MB/s: min {deposits[0]:N0}, median {deposits[2]:N0}, max {deposits[4]:N0}"));
            var status = await File.ReadAllLinesAsync($"/proc/{process.Id}/status");
            Console.WriteLine($"custodian peak RSS: {status.First(l => l.StartsWith("VmHWM", StringComparison.Ordinal)).Split(':')[1].Trim()}");
            process.Kill();
            await process.WaitForExitAsync();

            async Task<string> Vault(params string[] args)
            {
                var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
                info.ArgumentList.Add(vaultDll);
                foreach (var a in args)
                    info.ArgumentList.Add(a);
                using var p = Process.Start(info)!;
                var output = await p.StandardOutput.ReadToEndAsync();
                await p.WaitForExitAsync();
                return output;
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task<double> TimeAsync(string program, params string[] args)
    {
        var watch = Stopwatch.StartNew();
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
            info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        return watch.Elapsed.TotalSeconds;
    }

    private static async Task RelabelAsync(string image, CheckpointCopy copy, string label)
    {
        await using var output = new FileStream(image, FileMode.Open, FileAccess.Write);
        TapeFormat.Write(output, TapeRecordType.Header, TapeFormat.JsonPayload(new TapeHeader(TapeHeader.CurrentFormat, copy.VaultId, label, "weekly", "w-1", 0, 1, new DateOnly(2026, 12, 6), copy)));
    }

    /// <summary>A checkpoint signed by the key its own genesis names, as a custodian requires of an image's header.</summary>
    private static CheckpointCopy SignedCheckpoint()
    {
        var (privateKey, publicKey) = Ed25519.CreateKeyPair();
        var vaultId = "bench-vault";
        var genesis = new VaultCreated(vaultId, 1, new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero), null!, Convert.ToHexStringLower(publicKey));
        var at = new DateTimeOffset(2026, 12, 1, 0, 0, 1, TimeSpan.Zero);
        var head = new string('1', 64);
        var root = new string('2', 64);
        var signature = Ed25519.Sign(privateKey, CheckpointRecorded.SigningText(vaultId, 1, head, 1, root, at));
        return new CheckpointCopy(CheckpointCopy.CurrentFormat, vaultId, new CheckpointRecorded(1, head, 1, root, at, Convert.ToHexStringLower(signature)), new string('3', 64),
            Convert.ToBase64String(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(genesis)));
    }
}
