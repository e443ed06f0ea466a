using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Ingest.Client;
using Ingest.Contracts;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using Vault.Core.Sets;
using Vault.Services;
using Xunit.Abstractions;

namespace Ingest.Service.Tests;

/// <summary>
/// The hostile-producer campaign (issue "Hardening"): N messages over 19 classes, round-robin, on every ingest queue,
/// with good pushes running at the same time. Every message must get its documented outcome (docs/wire-format.md,
/// "Every input and what it gets"), the service must stay up, nothing may be recorded for any of them, and the good
/// pushes must restore byte-exact. The suite sends 380 (20 per class); ops/campaign-hostile.sh sends 10,000 and
/// writes the figures to docs/reliability.md (VAULT_CAMPAIGN_MESSAGES, VAULT_CAMPAIGN_REPORT).
/// </summary>
public sealed class HostileCampaignTests(ITestOutputHelper output)
{
    private sealed record Class(string Name, string Queue, Func<int, Message> Make, string? Code);

    private sealed record Message(ReadOnlyMemory<byte> Body, string ContentType, Dictionary<string, object?>? Headers = null);

    [Fact]
    public async Task every_hostile_message_gets_its_documented_outcome_nothing_is_recorded_and_good_pushes_restore_exactly()
    {
        var total = int.TryParse(Environment.GetEnvironmentVariable("VAULT_CAMPAIGN_MESSAGES"), out var n) ? n : 380;
        var amqp = await TestBroker.NewVirtualHostAsync();
        await using var vault = await TestVault.StartAsync(amqp);
        var client = vault.Client;
        await client.OpenAsync(new OpenSet { SetId = "open-1", Source = "web", Name = "n", Kind = "tree" }, CancellationToken.None);
        await client.OpenAsync(new OpenSet { SetId = "sealed-1", Source = "web", Name = "n", Kind = "tree" }, CancellationToken.None);
        var accepted = Bytes(50_000, 1);
        await client.PutAsync(Segment("open-1", 0, accepted), CancellationToken.None);
        var emptyManifest = new Manifest("vault-manifest/v1", "sealed-1", "tree", []).ToBytes();
        await client.SealAsync(new SealSet { SetId = "sealed-1", SegmentCount = 0, ManifestSha256 = Hex(SHA256.HashData(emptyManifest)), ManifestLength = emptyManifest.Length, ManifestEncoding = "identity", Manifest = emptyManifest }, CancellationToken.None);
        var before = (await vault.Log.ReadHeadAsync()).Position;

        var bomb = new ZstdSharp.Compressor(19).Wrap(new byte[16 * 1024 * 1024]).ToArray(); // 16 MiB of zeros in a few KB
        var classes = Classes(accepted, bomb);
        var random = new Random(20261202);
        var replies = classes.ToDictionary(c => c.Name, _ => new ConcurrentBag<IngestReply>());
        var sentTo = new ConcurrentDictionary<string, int>();
        var factory = new ConnectionFactory { Uri = new Uri(amqp) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        foreach (var c in classes)
        {
            await channel.QueueDeclareAsync(ReplyQueue(c), durable: true, exclusive: false, autoDelete: false);
            var consumer = new AsyncEventingBasicConsumer(channel);
            var bag = replies[c.Name];
            consumer.ReceivedAsync += (_, d) =>
            {
                bag.Add(JsonSerializer.Deserialize<IngestReply>(d.Body.Span)!);
                return Task.CompletedTask;
            };
            await channel.BasicConsumeAsync(ReplyQueue(c), autoAck: true, consumer);
        }

        foreach (var queue in new[] { "open", "segment", "seal", "query" })
            await channel.QueueDeclareAsync($"vault.ingest.{queue}_error", durable: true, exclusive: false, autoDelete: false);

        // Good pushes at the same time as the hostile stream.
        var goods = Enumerable.Range(0, 3).Select(i =>
        {
            Trees.Generate(vault.Sub($"good-{i}"), seed: 100 + i, bigFileBytes: 2 * 1024 * 1024);
            return Task.Run(() => new Pusher(client, TimeProvider.System).PushTreeAsync(vault.Sub($"good-{i}"), $"good-{i}", "web", "nightly", null, CancellationToken.None));
        }).ToArray();

        var watch = Stopwatch.StartNew();
        for (var i = 0; i < total; i++)
        {
            var c = classes[i % classes.Count];
            var m = c.Make(i);
            var body = Encoding.UTF8.GetString(m.Body.Span).Contains("REPLY", StringComparison.Ordinal) && m.ContentType == "application/json"
                ? Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(m.Body.Span).Replace("REPLY", ReplyQueue(c), StringComparison.Ordinal))
                : m.Body;
            var headers = m.Headers;
            if (headers is not null && headers.ContainsKey(SegmentWireFormat.ReplyToHeader))
                headers[SegmentWireFormat.ReplyToHeader] = ReplyQueue(c);
            await channel.BasicPublishAsync($"vault.ingest.{c.Queue}", "", mandatory: true, new BasicProperties { ContentType = m.ContentType, Persistent = true, Headers = headers }, body);
            sentTo.AddOrUpdate(c.Queue, 1, (_, v) => v + 1);
            _ = random.Next();
        }

        var sentSeconds = watch.Elapsed.TotalSeconds;
        await Task.WhenAll(goods);

        // Wait for every outcome: each answerable message's reply, and every hostile message in its queue's _error.
        var sentOf = classes.ToDictionary(c => c.Name, c => Enumerable.Range(0, total).Count(i => classes[i % classes.Count] == c));
        var expectedReplies = classes.ToDictionary(c => c.Name, c => c.Code is null or "fuzz" ? 0 : sentOf[c.Name]);
        var errors = new ConcurrentDictionary<string, int>();
        var reasons = new ConcurrentDictionary<string, int>();
        for (var attempt = 0; attempt < 600; attempt++)
        {
            foreach (var queue in sentTo.Keys)
            {
                while (await channel.BasicGetAsync($"vault.ingest.{queue}_error", autoAck: true) is { } fault)
                {
                    errors.AddOrUpdate(queue, 1, (_, v) => v + 1);
                    if (fault.BasicProperties.Headers?.TryGetValue(FaultAnswerFilter.ReasonHeader, out var r) == true && r is byte[] b && b.Length > 0)
                        reasons.AddOrUpdate(queue, 1, (_, v) => v + 1);
                }
            }

            if (sentTo.All(s => errors.GetValueOrDefault(s.Key) >= s.Value) && classes.All(c => replies[c.Name].Count >= expectedReplies[c.Name]))
                break;
            await Task.Delay(500);
        }

        var seconds = watch.Elapsed.TotalSeconds;
        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"hostile campaign: {total:N0} messages over {classes.Count} classes, sent in {sentSeconds:F1} s, all outcomes in {seconds:F1} s");
        var wrong = new List<string>();
        foreach (var c in classes)
        {
            var got = replies[c.Name].ToArray();
            // A fuzzed message may lose its reply queue or its JSON (then only _error has it); whatever is answered is a rejection.
            var right = c.Code switch
            {
                null => got.Length == 0,
                "fuzz" => got.Length <= sentOf[c.Name] && got.All(r => r.Code is not null),
                _ => got.Length == expectedReplies[c.Name] && got.All(r => c.Code.Split('|').Contains(r.Code)),
            };
            if (!right)
                wrong.Add($"{c.Name}: expected {expectedReplies[c.Name]} replies with code {c.Code ?? "(none)"}, got {got.Length}: {string.Join(", ", got.GroupBy(r => r.Code).Select(g => $"{g.Key} x{g.Count()}"))}");
            report.AppendLine(CultureInfo.InvariantCulture, $"  {c.Name,-34} to {c.Queue,-7} {(c.Code is null ? "no reply (unanswerable)" : $"{got.Length} of {sentOf[c.Name]} answered, code {string.Join("/", got.Select(r => r.Code).Distinct())}")}{(right ? "" : "  <-- WRONG")}");
        }

        foreach (var (queue, sent) in sentTo.OrderBy(s => s.Key))
        {
            report.AppendLine(CultureInfo.InvariantCulture, $"  vault.ingest.{queue}_error: {errors.GetValueOrDefault(queue)} of {sent} hostile messages, {reasons.GetValueOrDefault(queue)} with a vault-reason header");
            if (errors.GetValueOrDefault(queue) != sent || reasons.GetValueOrDefault(queue) != sent)
                wrong.Add($"_error of {queue}: {errors.GetValueOrDefault(queue)} messages, {reasons.GetValueOrDefault(queue)} with a reason, of {sent} sent");
        }

        // Nothing recorded for any of them: every record after the setup belongs to a good push.
        var strays = new List<string>();
        await foreach (var record in vault.Log.ReadAllAsync(before + 1))
        {
            if (!record.StreamId.StartsWith("set-good-", StringComparison.Ordinal))
                strays.Add($"{record.Position} {record.StreamId} {record.EventType}");
        }

        for (var i = 0; i < goods.Length; i++)
        {
            await new SetRestorer(vault.Log, vault.Store).RestoreTreeAsync($"good-{i}", vault.Sub($"restored-{i}"), null, CancellationToken.None);
            Trees.AssertSame(vault.Sub($"good-{i}"), vault.Sub($"restored-{i}"));
        }

        report.AppendLine(CultureInfo.InvariantCulture, $"  records for hostile messages: {strays.Count}; good pushes interleaved: {goods.Length}, restored byte-exact: {goods.Length}; log intact: {(await Vault.Storage.Log.LogVerifier.VerifyAsync(vault.Log)).Intact}");
        output.WriteLine(report.ToString());
        if (Environment.GetEnvironmentVariable("VAULT_CAMPAIGN_REPORT") is { Length: > 0 } file)
            await File.WriteAllTextAsync(file, report.ToString());
        Assert.True(wrong.Count == 0, string.Join("\n", wrong) + "\n" + report);
        Assert.True(strays.Count == 0, "recorded for hostile messages: " + string.Join("; ", strays.Take(10)));
    }

    private static string ReplyQueue(Class c) => "vault.reply.hc-" + c.Name;

    private static List<Class> Classes(byte[] accepted, byte[] bomb)
    {
        const string json = "application/json";
        string H(int seed) => Hex(SHA256.HashData(BitConverter.GetBytes(seed)));
        Message Json(string text) => new(Encoding.UTF8.GetBytes(text), json);
        Message Binary(byte[] body, string set, string sequence, string sha, string length, string encoding = "identity") => new(body, SegmentWireFormat.MediaType, new Dictionary<string, object?>
        {
            [SegmentWireFormat.SetIdHeader] = set, [SegmentWireFormat.SequenceHeader] = sequence, [SegmentWireFormat.Sha256Header] = sha,
            [SegmentWireFormat.LengthHeader] = length, [SegmentWireFormat.EncodingHeader] = encoding, [SegmentWireFormat.ReplyToHeader] = "REPLY",
        });
        Message Seal(string path, string type, string? target)
        {
            var manifest = Encoding.UTF8.GetBytes($$"""{"format":"vault-manifest/v1","setId":"open-1","kind":"tree","entries":[{"path":"{{path}}","type":"{{type}}","mode":420,"mtime":0,"size":0{{(target is null ? "" : $",\"target\":\"{target}\"")}}}{{(type == "symlink" ? ",{\"path\":\"" + path + "/cron.d/x\",\"type\":\"file\",\"mode\":420,\"mtime\":0,\"size\":0}" : "")}}]}""");
            return Json($$"""{"setId":"open-1","segmentCount":0,"manifestSha256":"{{Hex(SHA256.HashData(manifest))}}","manifestLength":{{manifest.Length}},"manifestEncoding":"identity","manifest":"{{Convert.ToBase64String(manifest)}}","replyTo":"REPLY"}""");
        }

        var other = Bytes(50_000, 2);
        var fuzzBase = Encoding.UTF8.GetBytes($$"""{"setId":"fz","sequence":1,"sha256":"{{H(1)}}","length":3,"encoding":"identity","data":"YWJj","replyTo":"REPLY"}""");
        return
        [
            new("wrong-type-sequence", "segment", i => Json($$"""{"setId":"hc-{{i}}","sequence":"seven","sha256":"{{H(i)}}","length":3,"encoding":"identity","data":"YWJj","replyTo":"REPLY"}"""), "malformed"),
            new("wrong-type-length", "segment", i => Json($$"""{"setId":"hc-{{i}}","sequence":{{i}},"sha256":"{{H(i)}}","length":"1000","encoding":"identity","data":"YWJj","replyTo":"REPLY"}"""), "malformed"),
            new("bad-base64-data", "segment", i => Json($$"""{"setId":"hc-{{i}}","sequence":{{i}},"sha256":"{{H(i)}}","length":3,"encoding":"identity","data":"!!{{i}}","replyTo":"REPLY"}"""), "malformed"),
            new("labels-not-an-object", "open", i => Json($$"""{"setId":"hc-{{i}}","source":"web","name":"n","kind":"tree","labels":"k=v","replyTo":"REPLY"}"""), "malformed"),
            new("hashes-not-strings", "query", i => Json($$"""{"queryId":"q{{i}}","hashes":[{{i}}],"replyTo":"REPLY"}"""), "malformed"),
            new("query-over-10000", "query", i => Json($$"""{"queryId":"q{{i}}","hashes":[{{string.Join(',', Enumerable.Repeat($"\"{H(i)}\"", 10_001))}}],"replyTo":"REPLY"}"""), "too-large"),
            new("query-hash-not-hex", "query", i => Json($$"""{"queryId":"q{{i}}","hashes":["zz{{i}}"],"replyTo":"REPLY"}"""), "malformed"),
            new("empty-body", "query", _ => new Message(Array.Empty<byte>(), json), null),
            new("not-json", "seal", i => Json($"{{\"setId\": \"hc-{i}\", "), null),
            new("json-array", "open", i => Json($"[{i},2]"), null),
            new("unknown-set", "segment", i => Binary(accepted, $"hc-unknown-{i}", "0", Hex(SHA256.HashData(accepted)), accepted.Length.ToString(CultureInfo.InvariantCulture)), "unknown-set"),
            new("sealed-set", "segment", i => Binary(accepted, "sealed-1", i.ToString(CultureInfo.InvariantCulture), Hex(SHA256.HashData(accepted)), accepted.Length.ToString(CultureInfo.InvariantCulture)), "set-sealed"),
            new("sequence-conflict", "segment", _ => Binary(other, "open-1", "0", Hex(SHA256.HashData(other)), other.Length.ToString(CultureInfo.InvariantCulture)), "sequence-conflict"),
            new("hash-mismatch", "segment", i => Binary(other, "open-1", (1000 + i).ToString(CultureInfo.InvariantCulture), H(i), other.Length.ToString(CultureInfo.InvariantCulture)), "hash-mismatch"),
            new("zstd-bomb", "segment", i => Binary(bomb, "open-1", (2_000_000 + i).ToString(CultureInfo.InvariantCulture), H(i), "1000", "zstd"), "length-mismatch|too-large"),
            new("oversize-declared", "segment", i => Binary(accepted, "open-1", (3_000_000 + i).ToString(CultureInfo.InvariantCulture), Hex(SHA256.HashData(accepted)), (9 * 1024 * 1024).ToString(CultureInfo.InvariantCulture)), "too-large"),
            new("manifest-path-escape", "seal", i => Seal(i % 2 == 0 ? "../evil" : "/etc/evil", "file", null), "malformed"),
            new("manifest-symlink-trick", "seal", _ => Seal("a", "symlink", "/etc"), "malformed"),
            new("fuzzed-segment-json", "segment", i =>
            {
                var body = fuzzBase.ToArray();
                var r = new Random(i);
                for (var k = r.Next(1, 4); k > 0; k--)
                    body[r.Next(body.Length)] = (byte)r.Next(256);
                return new Message(body, json);
            }, "fuzz"),
        ];
    }

    private static PutSegment Segment(string set, long sequence, byte[] data) => new() { SetId = set, Sequence = sequence, Sha256 = Hex(SHA256.HashData(data)), Length = data.Length, Encoding = "identity", Data = data };

    private static byte[] Bytes(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
