using System.Security.Cryptography;
using System.Text;
using Vault.Core.Log;

namespace Vault.Core.Tests.Log;

public sealed class ChainHashTests
{
    /// <summary>The worked example of docs/log-format.md, encoded by hand from the spec rather than by the product's encoder.</summary>
    public static readonly EventRecord Example = new(
        Position: 1,
        StreamId: "vault",
        StreamVersion: 0,
        EventType: "VaultCreated.v1",
        Payload: """{"vaultId":"0b5f3c"}"""u8.ToArray(),
        Metadata: """{"actor":"init"}"""u8.ToArray(),
        RecordedAt: new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero),
        PreviousHash: new byte[32],
        Hash: []);

    [Fact]
    public void the_encoding_is_the_documented_field_order_with_big_endian_widths_and_length_prefixes()
    {
        var expected = new List<byte>();
        expected.AddRange(new byte[32]);
        expected.AddRange(BigEndian(1UL));
        expected.AddRange(BigEndian32(5)); expected.AddRange("vault"u8.ToArray());
        expected.AddRange(BigEndian(0UL));
        expected.AddRange(BigEndian32(15)); expected.AddRange("VaultCreated.v1"u8.ToArray());
        expected.AddRange(BigEndian((ulong)1_795_435_200_000_000L));
        expected.AddRange(BigEndian32(16)); expected.AddRange("""{"actor":"init"}"""u8.ToArray());
        expected.AddRange(BigEndian32(20)); expected.AddRange("""{"vaultId":"0b5f3c"}"""u8.ToArray());

        Assert.Equal(Convert.ToHexStringLower([.. expected]), Convert.ToHexStringLower(ChainHash.Encode(Example)));
        Assert.Equal(SHA256.HashData([.. expected]), ChainHash.Compute(Example));
    }

    [Fact]
    public void the_hash_over_stored_bytes_agrees_with_the_hash_over_the_record_and_rejects_any_changed_field()
    {
        var record = Example with { Hash = ChainHash.Compute(Example) };
        bool Matches(EventRecord r, byte[]? hash = null) => ChainHash.Matches(
            r.PreviousHash, r.Position, Encoding.UTF8.GetBytes(r.StreamId), r.StreamVersion, Encoding.UTF8.GetBytes(r.EventType),
            r.RecordedAtMicroseconds, r.Metadata, r.Payload, hash ?? record.Hash);

        Assert.True(Matches(record));
        Assert.False(Matches(record with { Position = 2 }));
        Assert.False(Matches(record with { StreamId = "vaulT" }));
        Assert.False(Matches(record with { StreamVersion = 1 }));
        Assert.False(Matches(record with { EventType = "VaultCreated.v2" }));
        Assert.False(Matches(record with { RecordedAt = record.RecordedAt.AddTicks(10) }));
        Assert.False(Matches(record with { Metadata = [.. record.Metadata, (byte)' '] }));
        Assert.False(Matches(record with { Payload = [] }));
        Assert.False(Matches(record with { PreviousHash = [.. record.PreviousHash[..31], 1] }));
        Assert.False(Matches(record, record.Hash[..31]));

        // A record too big for the stack buffer takes the pooled path and still agrees.
        var big = Example with { Payload = new byte[5000] };
        big = big with { Hash = ChainHash.Compute(big) };
        Assert.True(ChainHash.Matches(big.PreviousHash, 1, "vault"u8, 0, "VaultCreated.v1"u8, big.RecordedAtMicroseconds, big.Metadata, big.Payload, big.Hash));
    }

    [Fact]
    public void the_fast_sha256_agrees_with_dotnet_across_block_boundaries_and_sizes_and_is_in_use_on_linux()
    {
        var data = new byte[70_000];
        new Random(7).NextBytes(data);
        foreach (var length in Enumerable.Range(0, 300).Concat([1000, 4096, Crypto.Sha256.DirectLimit, Crypto.Sha256.DirectLimit + 1, data.Length]))
            Assert.Equal(SHA256.HashData(data.AsSpan(0, length)), Crypto.Sha256.HashData(data.AsSpan(0, length)));
        if (OperatingSystem.IsLinux())
            Assert.True(Crypto.Sha256.Direct, "on Linux the direct OpenSSL path should load (libcrypto.so.3); without it verify is about 3x slower");
        Assert.Throws<ArgumentException>(() => Crypto.Sha256.HashData(data, new byte[31]));
    }

    [Fact]
    public void the_documented_worked_example_hash_is_what_the_code_computes()
    {
        var doc = File.ReadAllText(Path.Combine(RepoRoot(), "docs", "log-format.md"));

        Assert.Contains(Convert.ToHexStringLower(ChainHash.Encode(Example)), doc.Replace("\n", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains(Convert.ToHexStringLower(ChainHash.Compute(Example)), doc, StringComparison.Ordinal);
    }

    [Fact]
    public void every_field_changes_the_hash()
    {
        var h = ChainHash.Compute(Example);
        var variants = new[]
        {
            Example with { Position = 2 },
            Example with { StreamId = "vaulT" },
            Example with { StreamVersion = 1 },
            Example with { EventType = "VaultCreated.v2" },
            Example with { Payload = """{"vaultId":"0b5f3d"}"""u8.ToArray() },
            Example with { Metadata = """{"actor":"inix"}"""u8.ToArray() },
            Example with { RecordedAt = Example.RecordedAt.AddTicks(10) },
            Example with { PreviousHash = Enumerable.Repeat((byte)1, 32).ToArray() },
        };

        Assert.All(variants, v => Assert.NotEqual(h, ChainHash.Compute(v)));
    }

    [Fact]
    public void moving_bytes_between_length_prefixed_fields_changes_the_hash()
    {
        var a = Example with { StreamId = "ab", EventType = "c" };
        var b = Example with { StreamId = "a", EventType = "bc" };

        Assert.NotEqual(ChainHash.Compute(a), ChainHash.Compute(b));
    }

    [Fact]
    public void recorded_at_is_kept_to_the_microsecond_and_round_trips()
    {
        var at = new DateTimeOffset(2026, 1, 2, 3, 4, 5, 6, 7, TimeSpan.Zero).AddTicks(3);

        var truncated = ChainHash.Truncate(at);

        Assert.Equal(at.AddTicks(-3), truncated);
        Assert.Equal(truncated, ChainHash.FromUnixMicroseconds(ChainHash.ToUnixMicroseconds(truncated)));
    }

    private static byte[] BigEndian(ulong v) => BitConverter.GetBytes(v).Reverse().ToArray();

    private static byte[] BigEndian32(uint v) => BitConverter.GetBytes(v).Reverse().ToArray();

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Vault.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Vault.sln not found above the test directory.");
    }
}
