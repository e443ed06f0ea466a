using System.Text;
using System.Text.Json;
using Vault.Core.Sets;
using Vault.Services;

namespace Vault.Ops.Tests;

/// <summary>
/// Verification reads SegmentStored records (95% of a log) by matching the exact form the vault writes, and only
/// falls back to a JSON reader for anything else. These tests hold the two readings to one meaning: whatever the
/// quick match accepts, the full reading accepts, and both refuse what the documented object does not allow.
/// </summary>
public sealed class SegmentReadingTests
{
    private const string Hash = "df8b31c8bc58fb8d05e93a5d029cf90ea4715f181d4d1e1bef1464dade1f2c04";

    private static byte[] Canonical(string set = "night-000001", long sequence = 7, bool deduplicated = false, string? storedSha256 = null) =>
        EventCodec.Encode(new SegmentStored(set, sequence, Hash, 2_000_000, 900_000, deduplicated, new DateTimeOffset(2026, 1, 1, 0, 0, 0, 123, TimeSpan.Zero), storedSha256), "ingest").Payload;

    private static (bool Ok, string? Set, long Sequence, string? Problem) Read(string stream, byte[] payload)
    {
        var ok = SegmentReading.TryRead(Encoding.UTF8.GetBytes(stream), payload, null, out var set, out var sequence, out var problem);
        return (ok, set, sequence, problem);
    }

    [Fact]
    public void what_the_vault_writes_takes_the_quick_match_and_reads_as_its_stream_says()
    {
        var payload = Canonical();
        Assert.True(SegmentReading.TryReadStream("set-night-000001/7"u8, out var set, out var sequence));
        Assert.True(SegmentReading.IsCanonical(payload, set, "7"u8), Encoding.UTF8.GetString(payload));
        Assert.Equal((true, "night-000001", 7L, (string?)null), Read("set-night-000001/7", payload));
        Assert.True(Read("set-night-000001/7", Canonical(deduplicated: true)).Ok);
        var withStored = Canonical(storedSha256: new string('a', 64));
        Assert.True(SegmentReading.IsCanonical(withStored, set, "7"u8), Encoding.UTF8.GetString(withStored));
        Assert.Equal((true, "night-000001", 7L, (string?)null), Read("set-night-000001/7", withStored));
    }

    [Theory]
    [InlineData("\"storedSha256\":\"zz\"", "mistyped field 'storedSha256'")]
    [InlineData("\"storedSha256\":7", "mistyped field 'storedSha256'")]
    [InlineData("\"storedSha256\":\"SHA\",\"storedSha256\":\"SHA\"", "the field 'storedSha256' twice")]
    public void a_stored_hash_that_is_not_64_hex_digits_once_is_refused(string field, string problem)
    {
        var json = Encoding.UTF8.GetString(Canonical()).TrimEnd('}') + "," + field.Replace("SHA", new string('b', 64), StringComparison.Ordinal) + "}";
        var read = Read("set-night-000001/7", Encoding.UTF8.GetBytes(json));
        Assert.False(read.Ok);
        Assert.Contains(problem, read.Problem);
    }

    [Theory]
    [InlineData("""{ "sequence": 7, "setId": "night-000001", "hash": "HASH", "length": 2000000, "storedBytes": 900000, "deduplicated": false, "at": "2026-01-01T00:00:00+00:00" }""")]
    [InlineData("""{"setId":"night\u002D000001","sequence":7,"hash":"HASH","length":2000000,"storedBytes":900000,"deduplicated":false,"at":"2026-01-01T00:00:00Z"}""")]
    [InlineData("""{"setId":"night-000001","sequence":7.0e0,"hash":"HASH","length":2000000,"storedBytes":900000,"deduplicated":true,"at":"2026-01-01T00:00:00+02:00"}""")]
    public void another_valid_json_form_of_the_same_object_is_read_by_the_full_reading(string json)
    {
        var payload = Encoding.UTF8.GetBytes(json.Replace("HASH", Hash));
        Assert.True(SegmentReading.TryReadStream("set-night-000001/7"u8, out var set, out _));
        Assert.False(SegmentReading.IsCanonical(payload, set, "7"u8));
        var read = Read("set-night-000001/7", payload);
        if (json.Contains("7.0e0"))
            Assert.False(read.Ok); // 7.0e0 is not an int64 in System.Text.Json's reading either: refused, with a reason
        else
            Assert.Equal((true, "night-000001", 7L, (string?)null), read);
    }

    [Theory]
    [InlineData("set-night-000001/7", "\"setId\":\"night-000001\"", "\"setId\":\"night-000002\"", "names set 'night-000002'")]
    [InlineData("set-night-000001/7", "\"sequence\":7", "\"sequence\":8", "names sequence 8")]
    [InlineData("set-night-000001/7", "\"sequence\":7", "\"sequence\":\"7\"", "mistyped field 'sequence'")]
    [InlineData("set-night-000001/7", "\"length\":2000000", "\"length\":-1", "mistyped field 'length'")]
    [InlineData("set-night-000001/7", "\"length\":2000000", "\"length\":\"1000\"", "mistyped field 'length'")]
    [InlineData("set-night-000001/7", "df8b31c8", "zz8b31c8", "hash is not 64 hex digits")]
    [InlineData("set-night-000001/7", "df8b31c8", "df8b31c", "hash is not 64 hex digits")]
    [InlineData("set-night-000001/7", "\"deduplicated\":false", "\"deduplicated\":0", "mistyped field 'deduplicated'")]
    [InlineData("set-night-000001/7", "\"at\":\"2026-01-01T00:00:00.123+00:00\"", "\"at\":\"yesterday\"", "mistyped field 'at'")]
    [InlineData("set-night-000001/7", ",\"storedBytes\":900000", "", "lacks setId")]
    [InlineData("set-night-000001/7", ",\"storedBytes\":900000", ",\"storedBytes\":900000,\"storedBytes\":1", "the field 'storedBytes' twice")]
    [InlineData("set-night-000001/7", ",\"storedBytes\":900000", ",\"storedBytes\":900000,\"extra\":1", "unexpected or mistyped field 'extra'")]
    [InlineData("set-night-000001/7", "}", "}}", "does not parse")]
    [InlineData("set-night-000001/07", "", "", "not a stream id")]
    [InlineData("set-Night-000001/7", "", "", "not a stream id")]
    [InlineData("set-night-000001", "", "", "not a segment stream")]
    [InlineData("set-night-000001/99999999999999999999", "", "", "not a stream id")]
    public void a_payload_or_stream_the_documented_object_does_not_allow_is_refused_with_its_reason(string stream, string find, string replace, string reason)
    {
        var json = Encoding.UTF8.GetString(Canonical());
        Assert.Contains(find, json);
        var read = Read(stream, Encoding.UTF8.GetBytes(find.Length == 0 ? json : json.Replace(find, replace)));
        Assert.False(read.Ok);
        Assert.Contains(reason, read.Problem);
    }

    [Fact]
    public void under_a_thousand_byte_flips_the_quick_match_never_accepts_what_the_full_reading_refuses_and_nothing_throws()
    {
        var random = new Random(20261202);
        var original = Canonical();
        var stream = "set-night-000001/7"u8.ToArray();
        Assert.True(SegmentReading.TryReadStream(stream, out _, out _));
        int quick = 0, refused = 0;
        for (var i = 0; i < 1000; i++)
        {
            var payload = original.ToArray();
            for (var flips = random.Next(1, 3); flips > 0; flips--)
                payload[random.Next(payload.Length)] = (byte)random.Next(256);
            var canonical = SegmentReading.IsCanonical(payload, "night-000001"u8, "7"u8);
            var general = SegmentReading.TryReadGeneral(stream, payload, "night-000001"u8, 7, out var problem);
            var read = SegmentReading.TryRead(stream, payload, null, out _, out _, out var readProblem);
            if (canonical)
            {
                quick++;
                Assert.True(general, $"the quick match accepted what the full reading refuses ({problem}): {Encoding.UTF8.GetString(payload)}");
                // and what both accept really is the documented object
                var e = JsonSerializer.Deserialize<SegmentStored>(payload, new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
                Assert.Equal(("night-000001", 7L), (e.SetId, e.Sequence));
            }

            Assert.Equal(general, read);
            if (!read)
            {
                refused++;
                Assert.False(string.IsNullOrEmpty(readProblem));
            }
        }

        Assert.InRange(quick, 1, 999); // some flips land in the hash or digits and keep the form; most do not
        Assert.True(refused > 100, $"only {refused} of 1,000 flipped payloads refused");
    }
}
