namespace Vault.Core.Log;

/// <summary>The last record of the log: its position (0 when empty) and hash (32 zero bytes when empty).</summary>
public sealed record LogHead(long Position, byte[] Hash)
{
    public static LogHead Empty { get; } = new(0, ChainHash.Genesis);

    public string HashHex => Convert.ToHexStringLower(Hash);

    public bool Equals(LogHead? other) => other is not null && Position == other.Position && Hash.AsSpan().SequenceEqual(other.Hash);

    public override int GetHashCode() => HashCode.Combine(Position, BitConverter.ToInt32(Hash, 0));

    public override string ToString() => $"{Position}:{HashHex}";
}
