using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Time.Testing;
using Rotation.Custodian;
using Rotation.Service;
using Rotation.Service.Custodians;
using Vault.Core.Checkpoints;

namespace Vault.Ops.Tests;

/// <summary>
/// The custodian's rules on its own clock (a fake one here, in-process on loopback): retention that only grows and
/// binds whoever asks, arrival by its own date, write-once deposits checked against their facts and their own header,
/// checkpoints of one vault only, and a journal that notices being rewritten.
/// </summary>
public sealed class CustodianStoreTests : IAsyncLifetime
{
    private readonly TempDir _temp = new();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2027, 3, 1, 9, 0, 0, TimeSpan.Zero));
    private CustodianStore _store = null!;
    private WebApplication _app = null!;
    private CustodianClient _client = null!;
    private string _token = "";
    private CheckpointCopy _checkpoint = null!;

    private DateOnly Day(int days) => DateOnly.FromDateTime(_clock.GetUtcNow().UtcDateTime).AddDays(days);

    public async Task InitializeAsync()
    {
        _checkpoint = await CheckpointOfNewVaultAsync("vault");
        _token = CustodianConfig.Create(_temp.Sub("root"), "offsite-a", "primary");
        await StartAsync();
    }

    private async Task StartAsync()
    {
        _store = CustodianStore.Open(_temp.Sub("root"), _clock);
        _app = CustodianServer.Build(_store, "http://127.0.0.1:0");
        await _app.StartAsync();
        _client = new CustodianClient("offsite-a", new Uri(CustodianServer.Addresses(_app).First()), _token);
    }

    private async Task StopAsync()
    {
        _client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _store.Dispose();
    }

    public async Task DisposeAsync()
    {
        await StopAsync();
        _temp.Dispose();
    }

    private async Task<CheckpointCopy> CheckpointOfNewVaultAsync(string name)
    {
        var keys = await TestApprovers.CreateAsync(_temp.Sub(name + "-keys"), "alice", "bob");
        var vault = _temp.Sub(name);
        Assert.Equal(0, (await CliRun.RunAtAsync(_clock, ["init", "--vault", vault, .. keys.InitArguments])).ExitCode);
        var checkpoint = await CliRun.RunAtAsync(_clock, "log", "checkpoint", "--vault", vault, "--copy-to", _temp.Sub(name + ".checkpoint.json"));
        Assert.True(checkpoint.ExitCode == 0, checkpoint.Error);
        return JsonSerializer.Deserialize<CheckpointCopy>(await File.ReadAllBytesAsync(_temp.Sub(name + ".checkpoint.json")))!;
    }

    /// <summary>A small tape image of one medium and write: its header (with the checkpoint) and end of data.</summary>
    private string Image(string label, string writeId, CheckpointCopy? checkpoint = null, byte filler = 0)
    {
        var path = _temp.Sub($"{label}.{writeId}.{filler}.vtape");
        using var output = File.Create(path);
        TapeFormat.Write(output, TapeRecordType.Header, TapeFormat.JsonPayload(new TapeHeader(TapeHeader.CurrentFormat, (checkpoint ?? _checkpoint).VaultId, label, "weekly", writeId, 0, 1, Day(0), checkpoint ?? _checkpoint)));
        TapeFormat.Write(output, TapeRecordType.SetMark, Enumerable.Repeat(filler, 3000).ToArray());
        TapeFormat.Write(output, TapeRecordType.EndOfData, []);
        return path;
    }

    private static string Sha(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private async Task<CustodianRefusedException> Refused(Func<Task> call) => await Assert.ThrowsAsync<CustodianRefusedException>(call);

    [Fact]
    public async Task retention_binds_every_credential_until_the_custodians_own_date_passes_and_only_grows()
    {
        var image = Image("W00001", "weekly-1");
        var entry = await _client.DepositAsync(image, "W00001", "weekly-1", Sha(image), Day(10), Day(2), default);
        Assert.Equal(CustodyStatus.InTransit, entry.Status);
        _clock.Advance(TimeSpan.FromDays(2));
        Assert.Equal(CustodyStatus.Held, (await _client.FactsAsync("W00001", default))!.Status);

        var early = await Refused(() => _client.ReturnAsync("W00001", default));
        var shorter = await Refused(() => _client.ExtendAsync("W00001", Day(5), default));
        var second = CustodianConfig.AddCredential(_temp.Sub("root"), "auditor");
        await StopAsync();
        await StartAsync();
        using var other = new CustodianClient("offsite-a", _client.Address, second);
        var otherEarly = await Refused(() => other.ReturnAsync("W00001", default));
        Assert.Equal(Day(30), (await _client.ExtendAsync("W00001", Day(30), default)).RetainUntil);
        _clock.Advance(TimeSpan.FromDays(30)); // the last day kept
        var lastDay = await Refused(() => _client.ReturnAsync("W00001", default));
        _clock.Advance(TimeSpan.FromDays(1));
        var returned = await _client.ReturnAsync("W00001", default);

        Assert.Equal((423, CustodianProtocol.Codes.Retained), (early.Status, early.Code));
        Assert.Equal((423, CustodianProtocol.Codes.Retained), (shorter.Status, shorter.Code));
        Assert.Equal(CustodianProtocol.Codes.Retained, otherEarly.Code);
        Assert.Equal(CustodianProtocol.Codes.Retained, lastDay.Code);
        Assert.Equal("weekly-1", returned.WriteId);
        Assert.Empty(await _client.ListAsync(default));
        // The medium was recycled and written again: the same label is a new deposit.
        var again = Image("W00001", "weekly-2");
        Assert.Equal("weekly-2", (await _client.DepositAsync(again, "W00001", "weekly-2", Sha(again), Day(35), Day(1), default)).Facts.WriteId);
        Assert.Null(CustodianJournal.Verify(Path.Combine(_temp.Sub("root"), CustodianJournal.FileName)).Problem);
    }

    [Fact]
    public async Task a_deposit_that_is_not_what_it_claims_is_refused_and_leaves_nothing_and_a_retry_of_one_accepted_is_the_same()
    {
        var image = Image("W00002", "weekly-1");
        var otherImage = Image("W00002", "weekly-1", filler: 7);
        var wrongSha = await Refused(() => _client.DepositAsync(image, "W00002", "weekly-1", Sha(otherImage), Day(10), Day(1), default));
        var wrongLabel = await Refused(() => _client.DepositAsync(image, "W00003", "weekly-1", Sha(image), Day(10), Day(1), default));
        var pastRetention = await Refused(() => _client.DepositAsync(image, "W00002", "weekly-1", Sha(image), Day(-1), Day(1), default));
        var noCheckpointPath = _temp.Sub("bare.vtape");
        using (var output = File.Create(noCheckpointPath))
            TapeFormat.Write(output, TapeRecordType.Header, TapeFormat.JsonPayload(new TapeHeader(TapeHeader.CurrentFormat, _checkpoint.VaultId, "W00004", "weekly", "weekly-1", 0, 1, Day(0))));
        var noCheckpoint = await Refused(() => _client.DepositAsync(noCheckpointPath, "W00004", "weekly-1", Sha(noCheckpointPath), Day(10), Day(1), default));
        var foreign = await CheckpointOfNewVaultAsync("other-vault");
        var foreignImage = Image("W00005", "weekly-1", foreign);

        var accepted = await _client.DepositAsync(image, "W00002", "weekly-1", Sha(image), Day(10), Day(1), default);
        var retried = await _client.DepositAsync(image, "W00002", "weekly-1", Sha(image), Day(10), Day(1), default);
        var overwrite = await Refused(() => _client.DepositAsync(otherImage, "W00002", "weekly-9", Sha(otherImage), Day(10), Day(1), default));
        var fromForeignVault = await Refused(() => _client.DepositAsync(foreignImage, "W00005", "weekly-1", Sha(foreignImage), Day(10), Day(1), default));

        Assert.Equal(CustodianProtocol.Codes.Mismatch, wrongSha.Code);
        Assert.Contains("damaged or swapped", wrongSha.Reason);
        Assert.Equal(CustodianProtocol.Codes.Mismatch, wrongLabel.Code);
        Assert.Equal(CustodianProtocol.Codes.Malformed, pastRetention.Code);
        Assert.Equal(CustodianProtocol.Codes.Malformed, noCheckpoint.Code);
        Assert.Equal(accepted.Facts, retried.Facts);
        Assert.Equal(CustodianProtocol.Codes.Exists, overwrite.Code);
        Assert.Equal(CustodianProtocol.Codes.Foreign, fromForeignVault.Code);
        Assert.Equal(["W00002"], (await _client.ListAsync(default)).Select(e => e.Facts.Label));
        Assert.Empty(Directory.GetFiles(Path.Combine(_temp.Sub("root"), "incoming")));
        Assert.Equal(File.ReadAllBytes(image), File.ReadAllBytes(Path.Combine(_temp.Sub("root"), "images", "W00002.vtape")));
        var read = _temp.Sub("read-back.vtape");
        await _client.DownloadAsync("W00002", Sha(image), read, default);
        Assert.Equal(File.ReadAllBytes(image), File.ReadAllBytes(read));
        await Assert.ThrowsAsync<Vault.Core.Errors.StorageCorruptException>(() => _client.DownloadAsync("W00002", Sha(otherImage), _temp.Sub("wrong.vtape"), default));
        Assert.False(File.Exists(_temp.Sub("wrong.vtape")));
    }

    [Fact]
    public async Task checkpoints_are_kept_only_over_the_log_copy_and_a_forged_one_is_refused()
    {
        var beforeLog = await Refused(() => _client.PutCheckpointAsync(_checkpoint, default));
        var (_, log) = await VaultOpener.OpenAsync(_temp.Sub("vault"), null, _clock, default);
        await using (log)
        {
            var records = await log.ReadAllAsync(1).ToListAsync();
            var gap = await Refused(() => _client.AppendLogAsync(2, records.Skip(1).ToAsyncEnumerable(), default));
            var wrong = records[0] with { Payload = [.. records[0].Payload, (byte)' '] };
            var altered = await Refused(() => _client.AppendLogAsync(1, new[] { wrong }.ToAsyncEnumerable(), default));
            Assert.Equal(records.Count, (await _client.AppendLogAsync(1, records.ToAsyncEnumerable(), default)).Count);
            Assert.Equal(CustodianProtocol.Codes.LogGap, gap.Code);
            Assert.Equal(CustodianProtocol.Codes.Fork, altered.Code);
        }

        Assert.Equal(CustodianProtocol.Codes.LogGap, beforeLog.Code);
        await _client.PutCheckpointAsync(_checkpoint, default);
        var forged = _checkpoint with { Checkpoint = _checkpoint.Checkpoint with { Head = new string('a', 64) } };
        var refused = await Refused(() => _client.PutCheckpointAsync(forged, default));
        var foreign = await Refused(async () => await _client.PutCheckpointAsync(await CheckpointOfNewVaultAsync("stranger"), default));

        Assert.Equal(CustodianProtocol.Codes.Malformed, refused.Code);
        Assert.Equal(CustodianProtocol.Codes.Foreign, foreign.Code);
        Assert.Equal(_checkpoint.Checkpoint.Head, (await _client.LatestCheckpointAsync(default))!.Checkpoint.Head);
    }

    [Fact]
    public async Task hostile_requests_get_a_code_and_a_reason_and_change_nothing()
    {
        using var http = new HttpClient { BaseAddress = _client.Address };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", _token);
        async Task<(HttpStatusCode Status, string Code)> Send(HttpMethod method, string path, HttpContent? body = null, params (string, string)[] headers)
        {
            using var request = new HttpRequestMessage(method, path) { Content = body };
            foreach (var (name, value) in headers)
                request.Headers.TryAddWithoutValidation(name, value);
            using var response = await http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            return (response.StatusCode, text.Length > 0 && text[0] == '{' ? JsonDocument.Parse(text).RootElement.TryGetProperty("code", out var c) ? c.GetString()! : "" : "");
        }

        var image = File.ReadAllBytes(Image("W00007", "weekly-1"));
        var sha = Convert.ToHexStringLower(SHA256.HashData(image));
        (string, string)[] good = [(CustodianProtocol.WriteIdHeader, "weekly-1"), (CustodianProtocol.Sha256Header, sha), (CustodianProtocol.RetainUntilHeader, Day(5).ToString("yyyy-MM-dd")), (CustodianProtocol.ArrivesOnHeader, Day(0).ToString("yyyy-MM-dd"))];
        var results = new[]
        {
            await Send(HttpMethod.Put, "v1/images/..%2F..%2Fetc", new ByteArrayContent(image), good),
            await Send(HttpMethod.Put, "v1/images/W00007", new ByteArrayContent(image), [(CustodianProtocol.WriteIdHeader, "../x"), .. good[1..]]),
            await Send(HttpMethod.Put, "v1/images/W00007", new ByteArrayContent(image), [good[0], (CustodianProtocol.Sha256Header, "XYZ"), .. good[2..]]),
            await Send(HttpMethod.Put, "v1/images/W00007", new ByteArrayContent(image), [.. good[..2], (CustodianProtocol.RetainUntilHeader, "tomorrow"), good[3]]),
            await Send(HttpMethod.Put, "v1/images/W00007", new ByteArrayContent(image), [.. good[..3], (CustodianProtocol.ArrivesOnHeader, Day(400).ToString("yyyy-MM-dd"))]),
            await Send(HttpMethod.Put, "v1/images/W00007", new ByteArrayContent([]), good),
            await Send(HttpMethod.Put, "v1/checkpoints", new StringContent("{not json")),
            await Send(HttpMethod.Put, "v1/checkpoints", new StringContent("null")),
            await Send(HttpMethod.Put, "v1/log?from=1", new StringContent("{\"position\":1}\n")),
            await Send(HttpMethod.Put, "v1/log", new StringContent("")),
            await Send(HttpMethod.Post, "v1/images/W00007/retain?until=someday"),
        };

        Assert.All(results, r => Assert.Equal(HttpStatusCode.BadRequest, r.Status));
        Assert.All(results, r => Assert.Equal(CustodianProtocol.Codes.Malformed, r.Code));
        Assert.Empty(await _client.ListAsync(default));
        Assert.Empty(Directory.GetFiles(Path.Combine(_temp.Sub("root"), "incoming")));
        Assert.Equal(0, _store.LogCopy.Count);
        Assert.Null(CustodianJournal.Verify(Path.Combine(_temp.Sub("root"), CustodianJournal.FileName)).Problem);
        // Once well formed, the same image is accepted.
        Assert.Equal(HttpStatusCode.Created, (await Send(HttpMethod.Put, "v1/images/W00007", new ByteArrayContent(image), good)).Status);
    }

    [Fact]
    public async Task a_journal_rewritten_on_the_custodians_disk_is_found_and_the_custodian_will_not_write_after_it()
    {
        var image = Image("W00006", "weekly-1");
        await _client.DepositAsync(image, "W00006", "weekly-1", Sha(image), Day(10), Day(1), default);
        await Refused(() => _client.ReturnAsync("W00006", default));
        await _client.ExtendAsync("W00006", Day(20), default); // the refusal is now in the middle of the journal
        await StopAsync();
        var path = Path.Combine(_temp.Sub("root"), CustodianJournal.FileName);
        var lines = await File.ReadAllLinesAsync(path);
        Assert.Contains(lines, l => l.Contains("\"outcome\":\"refused\"", StringComparison.Ordinal));
        await File.WriteAllLinesAsync(path, lines.Where(l => !l.Contains("\"outcome\":\"refused\"", StringComparison.Ordinal))); // hide the refusal

        var verify = await CliRun.RunAsync("site", "verify", "--root", _temp.Sub("root"));
        Assert.Equal(10, verify.ExitCode);
        Assert.Contains("does not chain", verify.Output);
        Assert.Throws<InvalidDataException>(() => CustodianStore.Open(_temp.Sub("root"), _clock));
        await File.WriteAllLinesAsync(path, lines);
        await StartAsync();
    }
}
