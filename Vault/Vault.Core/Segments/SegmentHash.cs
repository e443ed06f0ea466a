using System.Security.Cryptography;

namespace Vault.Core.Segments;

/// <summary>A segment's identity: the SHA-256 of its plaintext. Parsed from exactly 64 lower- or upper-case hex digits.</summary>
public readonly record struct SegmentHash
{
    private readonly string _hex;

    private SegmentHash(string hex) => _hex = hex;

    public string Hex => _hex ?? throw new InvalidOperationException("An empty SegmentHash.");

    public static SegmentHash Of(ReadOnlySpan<byte> plaintext) => new(Convert.ToHexStringLower(SHA256.HashData(plaintext)));

    /// <summary>The hash whose SHA-256 digest is <paramref name="digest"/> (32 bytes).</summary>
    public static SegmentHash FromDigest(ReadOnlySpan<byte> digest) =>
        digest.Length == 32 ? new(Convert.ToHexStringLower(digest)) : throw new ArgumentException("A SHA-256 digest is 32 bytes.", nameof(digest));

    public static SegmentHash Parse(string text) =>
        TryParse(text, out var hash) ? hash : throw new FormatException($"'{text}' is not a segment hash: 64 hex digits of SHA-256.");

    public static bool TryParse(string? text, out SegmentHash hash)
    {
        hash = default;
        if (text is not { Length: 64 } || !text.All(char.IsAsciiHexDigit))
            return false;
        hash = new SegmentHash(text.ToLowerInvariant());
        return true;
    }

    public override string ToString() => Hex;
}
