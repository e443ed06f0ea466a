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
    private const int MaxPeaks = 64; // one per bit of the size
    private readonly byte[] _peaks = new byte[MaxPeaks * HashSize]; // the peaks side by side, no array per node
    private int _peakCount;

    public MerkleTree()
    {
    }

    /// <summary>Resumes from a size and its compact range (the peaks a checkpoint recorded).</summary>
    public MerkleTree(long size, IReadOnlyList<byte[]> peaks)
    {
        if (size < 0 || System.Numerics.BitOperations.PopCount((ulong)size) != peaks.Count || peaks.Any(p => p.Length != HashSize))
            throw new ArgumentException($"A tree of {size} leaves has {System.Numerics.BitOperations.PopCount((ulong)Math.Max(0, size))} peaks of {HashSize} bytes; got {peaks.Count}.", nameof(peaks));
        Size = size;
        foreach (var peak in peaks)
            peak.CopyTo(Peak(_peakCount++));
    }

    public long Size { get; private set; }

    /// <summary>The compact range: the roots of the full subtrees, left to right.</summary>
    public IReadOnlyList<byte[]> Peaks => [.. Enumerable.Range(0, _peakCount).Select(i => Peak(i).ToArray())];

    private Span<byte> Peak(int i) => _peaks.AsSpan(i * HashSize, HashSize);

    public void Append(ReadOnlySpan<byte> recordHash)
    {
        Span<byte> leaf = stackalloc byte[HashSize];
        LeafHash(recordHash, leaf);
        AppendLeafHash(leaf);
    }

    /// <summary>Appends a leaf whose leaf hash (<see cref="LeafHash(ReadOnlySpan{byte}, Span{byte})"/>) was computed elsewhere, e.g. in parallel.</summary>
    public void AppendLeafHash(ReadOnlySpan<byte> leafHash)
    {
        if (leafHash.Length != HashSize)
            throw new ArgumentException($"A leaf hash is {HashSize} bytes.", nameof(leafHash));
        Span<byte> node = stackalloc byte[HashSize];
        leafHash.CopyTo(node);
        // Each trailing 1 bit of the old size is a peak of the same height as the new node: merge them.
        for (var size = Size; (size & 1) == 1; size >>= 1)
            NodeHash(Peak(--_peakCount), node, node);
        node.CopyTo(Peak(_peakCount++));
        Size++;
    }

    /// <summary>The tree head: SHA-256 of the empty string for no leaves, else the peaks folded right to left.</summary>
    public byte[] Root()
    {
        if (_peakCount == 0)
            return Sha256.HashData(ReadOnlySpan<byte>.Empty);
        var root = Peak(_peakCount - 1).ToArray();
        for (var i = _peakCount - 2; i >= 0; i--)
            NodeHash(Peak(i), root, root);
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
        var hash = new byte[HashSize];
        NodeHash(left, right, hash);
        return hash;
    }

    /// <summary>The node hash into <paramref name="destination"/>, which may be <paramref name="left"/> or <paramref name="right"/>.</summary>
    public static void NodeHash(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right, Span<byte> destination)
    {
        Span<byte> buffer = stackalloc byte[1 + 2 * HashSize];
        buffer[0] = 1;
        left.CopyTo(buffer[1..]);
        right.CopyTo(buffer[(1 + HashSize)..]);
        Sha256.HashData(buffer, destination);
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
