using System.Security.Cryptography;
using Vault.Core.Crypto;

namespace Vault.Core.Checkpoints;

/// <summary>
/// The RFC 9162 (RFC 6962) Merkle tree over the log's record hashes, kept incrementally as a compact range: one
/// root per full subtree ("peaks", largest first), so appending a leaf costs O(1) amortised and the root O(log n),
/// never a rebuild. Leaf i is the 32-byte chain hash of the record at position i + 1.
/// leaf hash = SHA-256(0x00 | record hash); node hash = SHA-256(0x01 | left | right) (docs/checkpoints.md).
/// </summary>
public sealed class MerkleTree
{
    public const int HashSize = 32;
    private readonly List<byte[]> _peaks = [];

    public MerkleTree()
    {
    }

    /// <summary>Resumes from a size and its compact range (the peaks a checkpoint recorded).</summary>
    public MerkleTree(long size, IReadOnlyList<byte[]> peaks)
    {
        if (System.Numerics.BitOperations.PopCount((ulong)size) != peaks.Count || peaks.Any(p => p.Length != HashSize))
            throw new ArgumentException($"A tree of {size} leaves has {System.Numerics.BitOperations.PopCount((ulong)size)} peaks of {HashSize} bytes; got {peaks.Count}.", nameof(peaks));
        Size = size;
        _peaks.AddRange(peaks.Select(p => p.ToArray()));
    }

    public long Size { get; private set; }

    /// <summary>The compact range: the roots of the full subtrees, left to right.</summary>
    public IReadOnlyList<byte[]> Peaks => _peaks;

    public void Append(ReadOnlySpan<byte> recordHash) => AppendLeafHash(LeafHash(recordHash));

    /// <summary>Appends a leaf whose leaf hash (<see cref="LeafHash"/>) was computed elsewhere, e.g. in parallel.</summary>
    public void AppendLeafHash(byte[] leafHash)
    {
        var node = leafHash;
        // Each trailing 1 bit of the old size is a peak of the same height as the new node: merge them.
        for (var size = Size; (size & 1) == 1; size >>= 1)
        {
            node = NodeHash(_peaks[^1], node);
            _peaks.RemoveAt(_peaks.Count - 1);
        }

        _peaks.Add(node);
        Size++;
    }

    /// <summary>The tree head: SHA-256 of the empty string for no leaves, else the peaks folded right to left.</summary>
    public byte[] Root()
    {
        if (_peaks.Count == 0)
            return Sha256.HashData(ReadOnlySpan<byte>.Empty);
        var root = _peaks[^1];
        for (var i = _peaks.Count - 2; i >= 0; i--)
            root = NodeHash(_peaks[i], root);
        return root;
    }

    public static byte[] LeafHash(ReadOnlySpan<byte> data)
    {
        var hash = new byte[HashSize];
        LeafHash(data, hash);
        return hash;
    }

    public static void LeafHash(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        Span<byte> buffer = stackalloc byte[1 + HashSize];
        buffer[0] = 0;
        data.CopyTo(buffer[1..]);
        Sha256.HashData(buffer[..(1 + data.Length)], destination);
    }

    public static byte[] NodeHash(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        Span<byte> buffer = stackalloc byte[1 + 2 * HashSize];
        buffer[0] = 1;
        left.CopyTo(buffer[1..]);
        right.CopyTo(buffer[(1 + HashSize)..]);
        return Sha256.HashData(buffer);
    }

    /// <summary>The RFC 9162 root computed from scratch (MTH), for tests and auditors' cross-checks.</summary>
    public static byte[] RootOf(IReadOnlyList<byte[]> leaves) => leaves.Count == 0 ? Sha256.HashData(ReadOnlySpan<byte>.Empty) : Mth(leaves, 0, leaves.Count);

    private static byte[] Mth(IReadOnlyList<byte[]> leaves, int start, int count)
    {
        if (count == 1)
            return LeafHash(leaves[start]);
        var k = 1;
        while (k << 1 < count)
            k <<= 1;
        return NodeHash(Mth(leaves, start, k), Mth(leaves, start + k, count - k));
    }
}
