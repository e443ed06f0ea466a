using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Rotation.Core;
using Rotation.Service.Custodians;

namespace Vault.Ops.Tests;

/// <summary>
/// Off-site sites kept by custodians that run as their own processes on loopback, tried by an attacker holding the
/// primary's files, its CLI and clock, and the primary's custodian credentials: nothing the custodians accepted can
/// be erased, overwritten or taken back early, and what they hold restores byte-exact after the primary is gone.
/// </summary>
public sealed class CustodianTests : IDisposable
{
    private readonly TempDir _temp = new();
    private readonly FakeTimeProvider _clock = new();
    private TestApprovers _keys = null!;

    /// <summary>The custodians keep real time; the primary's rotation starts on the latest first Sunday of a month at least 3 days ago.</summary>
    private static readonly DateOnly Today = DateOnly.FromDateTime(TimeProvider.System.GetUtcNow().UtcDateTime);
    private static readonly DateOnly Start = FirstSundayBefore(Today.AddDays(-3));

    public void Dispose() => _temp.Dispose();

    private static DateOnly FirstSundayBefore(DateOnly date)
    {
        while (!(date.DayOfWeek == DayOfWeek.Sunday && date.Day <= 7))
            date = date.AddDays(-1);
        return date;
    }

    private void At(DateOnly date) => _clock.SetUtcNow(new DateTimeOffset(date.ToDateTime(new TimeOnly(20, 0)), TimeSpan.Zero));

    private Task<CliRun> Run(params string[] args) => CliRun.RunAtAsync(_clock, [.. args, "--vault", _temp.Sub("vault")]);

    private async Task<(CustodianProcess A, CustodianProcess B)> SetUpAsync(DateOnly? start = null, params string[] initArguments)
    {
        var a = await CustodianProcess.InitAndStartAsync("offsite-a", _temp.Sub("custodian-a"), _temp.Sub("offsite-a.token"));
        var b = await CustodianProcess.InitAndStartAsync("offsite-b", _temp.Sub("custodian-b"), _temp.Sub("offsite-b.token"));
        At(start ?? Start);
        var keys = _keys = await TestApprovers.CreateAsync(_temp.Sub("keys"), "alice", "bob");
        Assert.Equal(0, (await CliRun.RunAtAsync(_clock, ["init", "--vault", _temp.Sub("vault"), .. keys.InitArguments, .. initArguments])).ExitCode);
        var policy = RotationPolicy.Default(capacityBytes: TapeLayout.MinimumCapacity);
        policy = policy with
        {
            Sites = [.. policy.Sites.Select(s => s.Name switch
            {
                "offsite-a" => s with { Url = a.Url, CredentialFile = a.TokenFile },
                "offsite-b" => s with { Url = b.Url, CredentialFile = b.TokenFile },
                _ => s,
            })],
            // Weeklies kept 60 days, so tonight's still binds the custodians on the true today (up to 38 days on).
            Pools = [.. policy.Pools.Select(p => p.Name == "weekly" ? p with { KeepDays = 60 } : p)],
        };
        await File.WriteAllTextAsync(_temp.Sub("policy.json"), policy.ToJson());
        var configure = await Run("rotation", "configure", "--policy", _temp.Sub("policy.json"));
        Assert.True(configure.ExitCode == 0, configure.Error);
        return (a, b);
    }

    private async Task PushAsync(int day)
    {
        var source = _temp.Sub($"source-{day}");
        Directory.CreateDirectory(source);
        var bytes = new byte[600_000];
        new Random(day).NextBytes(bytes);
        await File.WriteAllBytesAsync(Path.Combine(source, "data.bin"), bytes);
        await File.WriteAllTextAsync(Path.Combine(source, "day.txt"), $"day {day}\n");
        var push = await Run("push", source, "--set", $"night-{day:D2}", "--source", "web", "--no-cache");
        Assert.True(push.ExitCode == 0, push.Error);
    }

    private static async Task<JsonElement[]> ListAsync(CustodianProcess custodian)
    {
        using var http = custodian.Client();
        return JsonDocument.Parse(await http.GetStringAsync(CustodianProtocol.Images)).RootElement.EnumerateArray().Select(e => e.Clone()).ToArray();
    }

    [Fact]
    public async Task an_attacker_with_the_primary_and_its_custodian_credentials_cannot_erase_overwrite_or_recall_and_the_custodians_restore_everything()
    {
        var (a, b) = await SetUpAsync();
        await using var _a = a;
        await using var _b = b;
        await PushAsync(0);
        var sunday = await Run("rotation", "run", "--courier");
        Assert.True(sunday.ExitCode == 0, sunday.Error);
        // Tonight's fulls left for the custodians at once: none is parked on the primary's disk, in transit or anywhere.
        Assert.Empty(Directory.GetFiles(_temp.Sub("vault"), "W*.vtape", SearchOption.AllDirectories));
        Assert.Empty(Directory.GetFiles(_temp.Sub("vault"), "M*.vtape", SearchOption.AllDirectories));
        Assert.Single(await ListAsync(a));
        Assert.Single(await ListAsync(b));
        At(Start.AddDays(1));
        await PushAsync(1);
        Assert.Equal(0, (await Run("rotation", "run", "--courier")).ExitCode);
        At(Start.AddDays(3));
        Assert.Equal(0, (await Run("rotation", "run", "--courier")).ExitCode);
        var media = JsonDocument.Parse((await Run("media", "list", "--json")).Output).RootElement.EnumerateArray().ToArray();
        var weekly = media.Single(m => m.GetProperty("pool").GetString() == "weekly" && m.GetProperty("site").GetString() == "offsite-a");
        var monthly = media.Single(m => m.GetProperty("pool").GetString() == "monthly" && m.GetProperty("site").GetString() == "offsite-b");
        var w = weekly.GetProperty("label").GetString()!;
        var m = monthly.GetProperty("label").GetString()!;

        // The attacker, on the true today, with the primary's token for each custodian.
        At(Today);
        using var httpA = a.Client();
        using var httpB = b.Client();
        var eraseW = await httpA.DeleteAsync(CustodianProtocol.Image(w));
        var eraseM = await httpB.DeleteAsync(CustodianProtocol.Image(m));
        var overwrite = await PutAsync(httpA, w, RandomNumberGenerator.GetBytes(5000), "w-evil");
        var planted = await PutAsync(httpA, "X00001", RandomNumberGenerator.GetBytes(5000), "w-evil");
        var shorten = await httpA.PostAsync($"{CustodianProtocol.Retain(w)}?until={Today:yyyy-MM-dd}", null);
        var recall = await Run("media", "ship", w, "--to", "primary");
        var policyOnPrimary = RotationPolicy.Parse(await File.ReadAllTextAsync(Path.Combine(_temp.Sub("vault"), "rotation.json")), "rotation.json");
        policyOnPrimary = policyOnPrimary with { Sites = [.. policyOnPrimary.Sites.Select(s => s.Name == "offsite-a" ? s with { Url = null, CredentialFile = null, Root = _temp.Sub("vault-disk-a") } : s)] };
        await File.WriteAllTextAsync(_temp.Sub("looser.json"), policyOnPrimary.ToJson());
        var loosen = await Run("rotation", "configure", "--policy", _temp.Sub("looser.json"));
        var future = await Run("rotation", "run", "--date", Today.AddDays(400).ToString("yyyy-MM-dd"), "--courier");
        using var noToken = new HttpClient { BaseAddress = new Uri(a.Url) };
        var anonymous = await noToken.DeleteAsync(CustodianProtocol.Image(w));
        // The primary's clock pushed 400 days ahead: every medium expires on the primary's paper, nothing at the custodians.
        var aheadClock = new FakeTimeProvider(_clock.GetUtcNow().AddDays(400));
        var ahead = await CliRun.RunAtAsync(aheadClock, "rotation", "run", "--courier", "--vault", _temp.Sub("vault"));

        Assert.Equal(HttpStatusCode.Locked, eraseW.StatusCode);
        Assert.Equal(HttpStatusCode.Locked, eraseM.StatusCode);
        Assert.Contains("kept until", await eraseW.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Conflict, overwrite.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, planted.StatusCode); // not a tape image of this vault
        Assert.Equal(HttpStatusCode.Locked, shorten.StatusCode);
        Assert.Equal(11, recall.ExitCode); // bringing it home early needs the quorum; and then its custodian still says no
        Assert.Contains("needs the quorum", recall.Error);
        recall.AssertNoStackTrace();
        Assert.Equal(2, future.ExitCode);
        Assert.Equal(11, loosen.ExitCode);
        Assert.Contains("no longer kept by its custodian", loosen.Error);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(12, ahead.ExitCode);
        Assert.Contains("shipment-deferred", ahead.Error);
        Assert.Equal([w], (await ListAsync(a)).Select(e => e.GetProperty("facts").GetProperty("label").GetString()));
        Assert.Equal([m], (await ListAsync(b)).Select(e => e.GetProperty("facts").GetProperty("label").GetString()));

        // Each custodian's journal names every attempt, chained; and each keeps the primary's checkpoints.
        var journal = await httpA.GetStringAsync(CustodianProtocol.Journal);
        Assert.Contains("\"action\":\"return\",\"outcome\":\"refused\"", journal);
        Assert.Contains("\"action\":\"deposit\",\"outcome\":\"refused\"", journal);
        Assert.Contains("\"action\":\"extend\",\"outcome\":\"refused\"", journal);
        Assert.Contains("no valid credential", journal);
        Assert.Equal(0, (await CliRun.RunAsync("site", "verify", "--root", a.Root)).ExitCode);
        var verify = await Run("log", "verify", "--json");
        Assert.True(verify.ExitCode == 0, verify.Output + verify.Error);
        Assert.Contains("custodian of offsite-a", verify.Output);

        // A drill of the primary's loss counts what the custodians keep, and restores it from images read back from them.
        var drill = await Run("drill", "site-loss", "primary", "--execute", _temp.Sub("drill"), "--json");
        Assert.True(drill.ExitCode == 0, $"{drill.ExitCode}: {drill.Error} {drill.Output}");
        var recorded = JsonDocument.Parse(drill.Output).RootElement;
        Assert.Equal(["in transit"], recorded.GetProperty("alsoLost").EnumerateArray().Select(e => e.GetString())); // the custodians' sites are not on the primary's disk
        Assert.Equal(["night-00"], Directory.GetDirectories(_temp.Sub("drill")).Select(Path.GetFileName));
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(_temp.Sub("source-0"), "data.bin")), await File.ReadAllBytesAsync(Path.Combine(_temp.Sub("drill"), "night-00", "data.bin")));

        // The primary burns down. A new primary is rebuilt from the custodians: the log from their copies, checked
        // against their checkpoints, and the sealed sets from their images. Monday's daily was on the primary only
        // (and the run with the clock ahead recycled its medium there: the primary's own media are the attacker's).
        Directory.Delete(_temp.Sub("vault"), recursive: true);
        var recover = await CliRun.RunAtAsync(_clock, "recover", "--site", $"{a.Url}={a.TokenFile}", "--site", $"{b.Url}={b.TokenFile}", "--to", _temp.Sub("rebuilt"), "--json");
        Assert.True(recover.ExitCode == 12, $"{recover.ExitCode}: {recover.Error} {recover.Output}");
        var rebuilt = JsonDocument.Parse(recover.Output).RootElement;
        Assert.Equal(2, rebuilt.GetProperty("checkpointsVerified").GetArrayLength());
        Assert.Equal(1, rebuilt.GetProperty("setsRecovered").GetInt32());
        Assert.Contains("night-01", Assert.Single(rebuilt.GetProperty("setsIncomplete").EnumerateArray()).GetString());
        var rebuiltVerify = await CliRun.RunAtAsync(_clock, "log", "verify", "--vault", _temp.Sub("rebuilt"), "--json");
        Assert.True(rebuiltVerify.ExitCode == 0, rebuiltVerify.Output + rebuiltVerify.Error);
        Assert.Contains("custodian of offsite-b", rebuiltVerify.Output);
        var fromRebuilt = await CliRun.RunAtAsync(_clock, "restore", "night-00", "--vault", _temp.Sub("rebuilt"), "--to", _temp.Sub("restored-rebuilt"));
        Assert.True(fromRebuilt.ExitCode == 0, fromRebuilt.Error);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(_temp.Sub("source-0"), "data.bin")), await File.ReadAllBytesAsync(Path.Combine(_temp.Sub("restored-rebuilt"), "data.bin")));

        // And the images alone, read back from the custodians, restore without any vault.
        var images = _temp.Sub("from-custodians");
        Directory.CreateDirectory(images);
        foreach (var (custodian, label) in new[] { (a, w), (b, m) })
        {
            using var client = new CustodianClient(custodian.Site, new Uri(custodian.Url), custodian.Token);
            var facts = (await client.FactsAsync(label, default))!.Facts;
            await client.DownloadAsync(label, facts.Sha256, Path.Combine(images, label + ".vtape"), default);
        }

        var restore = await CliRun.RunAtAsync(_clock, "media", "restore", "night-00", "--images", images, "--to", _temp.Sub("restored"));
        Assert.True(restore.ExitCode == 0, restore.Error);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(_temp.Sub("source-0"), "data.bin")), await File.ReadAllBytesAsync(Path.Combine(_temp.Sub("restored"), "data.bin")));
    }

    [Fact]
    public async Task a_custodian_that_is_down_defers_the_shipment_and_one_killed_mid_deposit_keeps_nothing()
    {
        var (a, b) = await SetUpAsync();
        await using var _a = a;
        await using var _b = b;
        await a.KillAsync();
        await PushAsync(0);
        var run = await Run("rotation", "run", "--courier");
        Assert.Equal(12, run.ExitCode);
        Assert.Contains("shipment-deferred", run.Error);
        Assert.Contains("could not be reached", run.Error);
        run.AssertNoStackTrace();
        var weekly = JsonDocument.Parse((await Run("media", "list", "--json")).Output).RootElement.EnumerateArray()
            .Single(m => m.GetProperty("pool").GetString() == "weekly" && m.GetProperty("state").GetInt32() == (int)MediumState.Full);
        var w = weekly.GetProperty("label").GetString()!;
        Assert.Equal("primary", weekly.GetProperty("site").GetString()); // not lost: it waits at the primary
        var image = Directory.GetFiles(_temp.Sub("vault"), w + ".vtape", SearchOption.AllDirectories).Single();

        // The custodian comes back and is killed half-way through receiving the image.
        await a.StartAsync();
        using (var http = a.Client())
        {
            var bytes = await File.ReadAllBytesAsync(image);
            var slow = new HalfThenHang(bytes);
            using var request = new HttpRequestMessage(HttpMethod.Put, CustodianProtocol.Image(w)) { Content = slow };
            request.Content.Headers.ContentLength = bytes.Length;
            request.Headers.Add(CustodianProtocol.WriteIdHeader, "night-w");
            request.Headers.Add(CustodianProtocol.Sha256Header, Convert.ToHexStringLower(SHA256.HashData(bytes)));
            request.Headers.Add(CustodianProtocol.RetainUntilHeader, Today.AddDays(10).ToString("yyyy-MM-dd"));
            request.Headers.Add(CustodianProtocol.ArrivesOnHeader, Today.ToString("yyyy-MM-dd"));
            var sending = http.SendAsync(request);
            await slow.HalfSent.WaitAsync(TimeSpan.FromSeconds(30));
            var incoming = Path.Combine(a.Root, "incoming");
            for (var i = 0; i < 200 && (Directory.GetFiles(incoming) is not [var partial] || new FileInfo(partial).Length == 0); i++)
                await Task.Delay(50); // until the custodian has part of the image on its disk
            Assert.NotEmpty(Directory.GetFiles(incoming));
            await a.KillAsync();
            slow.GiveUp();
            await Assert.ThrowsAnyAsync<Exception>(() => sending);
        }

        await a.StartAsync();
        Assert.Empty(Directory.GetFiles(Path.Combine(a.Root, "incoming")));
        Assert.Empty(await ListAsync(a));
        using (var http = a.Client())
            Assert.Contains("\"action\":\"recover\",\"outcome\":\"removed\"", await http.GetStringAsync(CustodianProtocol.Journal));

        // The next night's run ships it; the custodian holds exactly the image written, and the primary keeps no copy.
        At(Start.AddDays(1));
        await PushAsync(1);
        var next = await Run("rotation", "run", "--courier");
        Assert.True(next.ExitCode == 0, next.Error);
        var held = Assert.Single(await ListAsync(a));
        Assert.Equal(weekly.GetProperty("imageSha256").GetString(), held.GetProperty("facts").GetProperty("sha256").GetString());
        Assert.False(File.Exists(image));

        // Someone at the site cuts its journal short (what is left still chains): the primary kept the head it saw.
        await a.KillAsync();
        var journalFile = Path.Combine(a.Root, "journal.log");
        var lines = await File.ReadAllLinesAsync(journalFile);
        await File.WriteAllLinesAsync(journalFile, lines[..^2]);
        await a.StartAsync();
        At(Start.AddDays(2));
        var cut = await Run("rotation", "run", "--courier");
        Assert.Equal(12, cut.ExitCode);
        Assert.Contains("custodian-journal-rewritten", cut.Error);
        Assert.Equal(0, await a.TerminateAsync());
    }

    [Fact]
    public async Task a_log_rewritten_on_the_primary_cannot_extend_the_custodians_copies_and_recover_brings_back_the_true_history()
    {
        var (a, b) = await SetUpAsync();
        await using var _a = a;
        await using var _b = b;
        await PushAsync(0);
        Assert.Equal(0, (await Run("rotation", "run", "--courier")).ExitCode);
        using var http = a.Client();
        var before = JsonDocument.Parse(await http.GetStringAsync(CustodianProtocol.LogHead)).RootElement.GetProperty("count").GetInt64();

        // Root on the primary hides night-00: its seal is taken out of the log and the chain recomputed.
        await new Backdoor(_temp.Sub("vault"), null).RewriteAsync(records => [.. records.Where(r => !(r.EventType == "SetSealed.v1" && r.StreamId.EndsWith("night-00", StringComparison.Ordinal)))]);
        At(Start.AddDays(1));
        await PushAsync(1);
        var run = await Run("rotation", "run", "--courier");
        var verify = await Run("log", "verify", "--json");

        Assert.Equal(12, run.ExitCode);
        Assert.Contains("log-diverged", run.Error);
        Assert.Contains("rewritten", run.Error);
        Assert.Equal(before, JsonDocument.Parse(await http.GetStringAsync(CustodianProtocol.LogHead)).RootElement.GetProperty("count").GetInt64());
        Assert.Equal(10, verify.ExitCode);
        Assert.Contains("custodian of offsite-a", verify.Output);

        Directory.Delete(_temp.Sub("vault"), recursive: true);
        var recover = await CliRun.RunAtAsync(_clock, "recover", "--site", $"{a.Url}={a.TokenFile}", "--site", $"{b.Url}={b.TokenFile}", "--to", _temp.Sub("rebuilt"), "--json");
        Assert.True(recover.ExitCode == 0, $"{recover.ExitCode}: {recover.Error} {recover.Output}");
        var restore = await CliRun.RunAtAsync(_clock, "restore", "night-00", "--vault", _temp.Sub("rebuilt"), "--to", _temp.Sub("restored"));
        Assert.True(restore.ExitCode == 0, restore.Error);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(_temp.Sub("source-0"), "data.bin")), await File.ReadAllBytesAsync(Path.Combine(_temp.Sub("restored"), "data.bin")));
    }

    [Fact]
    public async Task recover_names_an_image_damaged_at_one_custodian_and_completes_from_the_other()
    {
        var (a, b) = await SetUpAsync();
        await using var _a = a;
        await using var _b = b;
        await PushAsync(0);
        Assert.Equal(0, (await Run("rotation", "run", "--courier")).ExitCode);
        var image = Assert.Single(Directory.GetFiles(Path.Combine(a.Root, "images"), "*.vtape"));
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(image, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await using (var file = new FileStream(image, FileMode.Open, FileAccess.ReadWrite))
        {
            Rotation.Service.TapeRecord? segment;
            while ((segment = Rotation.Service.TapeFormat.Read(file)) is { Type: not Rotation.Service.TapeRecordType.Segment })
            {
            }

            // Inside the first segment's zstd frame: past the record header and the segment's hash and length.
            file.Position = segment!.Offset + Rotation.Service.TapeFormat.HeaderBytes + 40 + (segment.Payload.Length - 40) / 2;
            var b0 = file.ReadByte();
            file.Position--;
            file.WriteByte((byte)(b0 ^ 0x40)); // the custodian's own disk rots (or its root is tampered with)
        }

        Assert.Equal(10, (await CliRun.RunAsync("site", "verify", "--root", a.Root)).ExitCode);
        Directory.Delete(_temp.Sub("vault"), recursive: true);
        var recover = await CliRun.RunAtAsync(_clock, "recover", "--site", $"{a.Url}={a.TokenFile}", "--site", $"{b.Url}={b.TokenFile}", "--to", _temp.Sub("rebuilt"), "--json");

        Assert.True(recover.ExitCode == 0, $"{recover.ExitCode}: {recover.Error} {recover.Output}");
        var result = JsonDocument.Parse(recover.Output).RootElement;
        var problems = result.GetProperty("imageProblems").EnumerateArray().Select(p => p.GetString()!).ToArray();
        Assert.Contains(problems, p => p.Contains("not the image the vault wrote", StringComparison.Ordinal)); // the image, by its SHA-256
        Assert.Contains(problems, p => p.Contains("is damaged on this image", StringComparison.Ordinal)); // and the segment the flip hit
        Assert.Equal(1, result.GetProperty("setsRecovered").GetInt32());
        var restore = await CliRun.RunAtAsync(_clock, "restore", "night-00", "--vault", _temp.Sub("rebuilt"), "--to", _temp.Sub("restored"));
        Assert.True(restore.ExitCode == 0, restore.Error);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(_temp.Sub("source-0"), "data.bin")), await File.ReadAllBytesAsync(Path.Combine(_temp.Sub("restored"), "data.bin")));
    }

    private static async Task<HttpResponseMessage> PutAsync(HttpClient http, string label, byte[] body, string writeId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, CustodianProtocol.Image(label)) { Content = new ByteArrayContent(body) };
        request.Headers.Add(CustodianProtocol.WriteIdHeader, writeId);
        request.Headers.Add(CustodianProtocol.Sha256Header, Convert.ToHexStringLower(SHA256.HashData(body)));
        request.Headers.Add(CustodianProtocol.RetainUntilHeader, Today.AddDays(1).ToString("yyyy-MM-dd"));
        request.Headers.Add(CustodianProtocol.ArrivesOnHeader, Today.ToString("yyyy-MM-dd"));
        return await http.SendAsync(request);
    }

    /// <summary>A request body that sends half its bytes and then never finishes (the custodian is killed meanwhile).</summary>
    private sealed class HalfThenHang(byte[] bytes) : HttpContent
    {
        private readonly TaskCompletionSource _half = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _giveUp = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task HalfSent => _half.Task;

        public void GiveUp() => _giveUp.TrySetResult();

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(bytes.AsMemory(0, bytes.Length / 2));
            await stream.FlushAsync();
            _half.TrySetResult();
            await _giveUp.Task;
            throw new IOException("the sender gave up");
        }

        protected override bool TryComputeLength(out long length)
        {
            length = bytes.Length;
            return true;
        }
    }

    /// <summary>
    /// Early release is proved by the custodian itself, from its own copy of the log and by its own clock: one
    /// signature is not enough, an approval forged into the primary's log (valid chain, false signature) reaches the
    /// custodian's copy and still counts for nothing, the quorum must wait twice the cooling-off delay; then the
    /// medium comes home with its image read back and checked.
    /// </summary>
    [Fact]
    public async Task a_custodian_releases_an_image_early_only_for_a_request_it_proves_itself_from_its_log_copy()
    {
        var start = FirstSundayBefore(Today.AddDays(-4));
        var (a, b) = await SetUpAsync(start, "--quorum", "2", "--cooling-off", "5s");
        await using var _a = a;
        await using var _b = b;
        await PushAsync(0);
        Assert.Equal(0, (await Run("rotation", "run", "--courier")).ExitCode);
        At(start.AddDays(3));
        Assert.Equal(0, (await Run("rotation", "run", "--courier")).ExitCode);
        var media = JsonDocument.Parse((await Run("media", "list", "--json")).Output).RootElement.EnumerateArray().ToArray();
        var w = media.Single(m => m.GetProperty("pool").GetString() == "weekly" && m.GetProperty("site").GetString() == "offsite-a").GetProperty("label").GetString()!;
        var keys = _keys;

        // From here the primary keeps real time, as the custodians do.
        _clock.SetUtcNow(TimeProvider.System.GetUtcNow());
        var propose = await Run(["rotation", "propose", "--ship", w, "--to", "primary", "--reason", "inspect the tape", "--id", "rot-early", .. keys.As("alice")]);
        Assert.True(propose.ExitCode == 0, propose.Error);
        var backdoor = new Backdoor(_temp.Sub("vault"), null);
        var version = (await backdoor.ReadAsync()).Where(r => r.StreamId == "deletion-rot-early").Max(r => r.StreamVersion);
        var forged = Vault.Services.EventCodec.Encode(new Vault.Core.Governance.RequestApproved("rot-early", "bob", Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(64)), _clock.GetUtcNow()), "mallory");
        await backdoor.AppendAsync("deletion-rot-early", version + 1, forged.EventType, System.Text.Encoding.UTF8.GetString(forged.Payload), _clock.GetUtcNow());
        _clock.Advance(TimeSpan.FromSeconds(1));
        var sync = await Run("rotation", "run"); // sends the custodians the log, forged approval included
        Assert.True(sync.ExitCode is 0 or 12, sync.Error);
        using var httpA = a.Client();
        var oneKey = await httpA.DeleteAsync($"{CustodianProtocol.Image(w)}?request=rot-early");
        var alone = await Run("request", "execute", "rot-early");

        Assert.Equal(HttpStatusCode.Locked, oneKey.StatusCode);
        Assert.Contains("has 1 of the 2 signatures it needs", await oneKey.Content.ReadAsStringAsync()); // the forged approval counted for nothing
        Assert.Equal(11, alone.ExitCode);

        var bob = await Run(["request", "approve", "rot-early", .. keys.As("bob")]);
        Assert.True(bob.ExitCode == 0, bob.Error);
        var approvedAt = TimeProvider.System.GetUtcNow();
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True((await Run("rotation", "run")).ExitCode is 0 or 12);
        var tooSoon = await httpA.DeleteAsync($"{CustodianProtocol.Image(w)}?request=rot-early");
        Assert.Equal(HttpStatusCode.Locked, tooSoon.StatusCode); // twice the cooling-off delay, by the custodian's clock
        Assert.Contains("is cooling off", await tooSoon.Content.ReadAsStringAsync());
        Assert.Single(await ListAsync(a));

        var wait = approvedAt.AddSeconds(11) - TimeProvider.System.GetUtcNow();
        if (wait > TimeSpan.Zero)
            await Task.Delay(wait);
        _clock.SetUtcNow(TimeProvider.System.GetUtcNow());
        var execute = await Run("request", "execute", "rot-early");
        Assert.True(execute.ExitCode == 0, execute.Error + execute.Output);
        Assert.Empty(await ListAsync(a));
        var journal = await httpA.GetStringAsync(CustodianProtocol.Journal);
        Assert.Contains("released early", journal);
        Assert.Contains("signed by alice, bob (proved here)", journal);
        var shown = JsonDocument.Parse((await Run("media", "show", w, "--json")).Output).RootElement;
        Assert.Equal("primary", shown.GetProperty("destination").GetString());
        Assert.Single(Directory.GetFiles(_temp.Sub("vault"), w + "*.vtape", SearchOption.AllDirectories)); // read back, hash checked
        _clock.Advance(TimeSpan.FromDays(2));
        var receive = await Run("media", "receive", w);
        Assert.True(receive.ExitCode == 0, receive.Error);

        // The forged approval is named; the shipment it did not carry is not.
        var verify = await Run("log", "verify", "--json");
        var findings = JsonDocument.Parse(verify.Output).RootElement.GetProperty("findings").EnumerateArray().Select(f => f.GetProperty("detail").GetString()!).ToArray();
        Assert.Equal(10, verify.ExitCode);
        Assert.Contains("rot-early", Assert.Single(findings));
    }
}
