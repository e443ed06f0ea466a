namespace Vault.Core.Checkpoints;

/// <summary>
/// RFC 9162 (§2.1.3, §2.1.4) inclusion and consistency proofs over the log's Merkle tree, whose leaf i is the chain
/// hash of record i + 1. Proving reads the record hashes up to the tree's size; verifying needs only the proof,
/// the record hash (for inclusion) and the roots, which checkpoints sign. docs/audit.md.
/// </summary>
/// <summary>The RFC 9162 root (MTH) of any range of the tree's leaves: from the leaves themselves, or from a cache.</summary>
public interface ISubtreeRoots
{
    long Count { get; }

    byte[] Root(long start, long count);
}

public static class MerkleProofs
{
    private sealed class FromLeaves(IReadOnlyList<byte[]> leaves) : ISubtreeRoots
    {
        public long Count => leaves.Count;

        public byte[] Root(long start, long count) => MerkleProofs.Root(leaves, (int)start, (int)count);
    }

    /// <summary>The audit path of leaf <paramref name="index"/> in the tree of the first <paramref name="size"/> record hashes, leaf upward.</summary>
    public static IReadOnlyList<byte[]> Inclusion(IReadOnlyList<byte[]> recordHashes, long index, long size) => Inclusion(new FromLeaves(recordHashes), index, size);

    /// <summary>The same path, with every subtree root asked of <paramref name="roots"/> (a cache answers in O(log n)).</summary>
    public static IReadOnlyList<byte[]> Inclusion(ISubtreeRoots roots, long index, long size)
    {
        if (size < 1 || size > roots.Count || index < 0 || index >= size)
            throw new ArgumentOutOfRangeException(nameof(index), $"Leaf {index} is not in a tree of {size} leaves.");
        var path = new List<byte[]>();
        Path(roots, index, 0, size, path);
        return path;
    }

    private static void Path(ISubtreeRoots leaves, long m, long start, long n, List<byte[]> path)
    {
        if (n == 1)
            return;
        var k = Split(n);
        if (m < k)
        {
            Path(leaves, m, start, k, path);
            path.Add(leaves.Root(start + k, n - k));
        }
        else
        {
            Path(leaves, m - k, start + k, n - k, path);
            path.Add(leaves.Root(start, k));
        }
    }

    public static bool VerifyInclusion(ReadOnlySpan<byte> recordHash, long index, long size, IReadOnlyList<byte[]> path, ReadOnlySpan<byte> root)
    {
        if (index < 0 || index >= size)
            return false;
        long fn = index, sn = size - 1;
        var r = MerkleTree.LeafHash(recordHash);
        foreach (var p in path)
        {
            if (sn == 0 || p.Length != MerkleTree.HashSize)
                return false;
            if ((fn & 1) == 1 || fn == sn)
            {
                r = MerkleTree.NodeHash(p, r);
                if ((fn & 1) == 0)
                {
                    while ((fn & 1) == 0 && fn != 0)
                    {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            }
            else
            {
                r = MerkleTree.NodeHash(r, p);
            }

            fn >>= 1;
            sn >>= 1;
        }

        return sn == 0 && r.AsSpan().SequenceEqual(root);
    }

    /// <summary>The proof that the tree of the first <paramref name="first"/> leaves is a prefix of the tree of <paramref name="second"/>.</summary>
    public static IReadOnlyList<byte[]> Consistency(IReadOnlyList<byte[]> recordHashes, long first, long second) => Consistency(new FromLeaves(recordHashes), first, second);

    public static IReadOnlyList<byte[]> Consistency(ISubtreeRoots roots, long first, long second)
    {
        if (first < 1 || first > second || second > roots.Count)
            throw new ArgumentOutOfRangeException(nameof(first), $"No consistency proof from {first} to {second} leaves over {roots.Count}.");
        var proof = new List<byte[]>();
        Subproof(roots, first, 0, second, complete: true, proof);
        return proof;
    }

    private static void Subproof(ISubtreeRoots leaves, long m, long start, long n, bool complete, List<byte[]> proof)
    {
        if (m == n)
        {
            if (!complete)
                proof.Add(leaves.Root(start, m));
            return;
        }

        var k = Split(n);
        if (m <= k)
        {
            Subproof(leaves, m, start, k, complete, proof);
            proof.Add(leaves.Root(start + k, n - k));
        }
        else
        {
            Subproof(leaves, m - k, start + k, n - k, complete: false, proof);
            proof.Add(leaves.Root(start, k));
        }
    }

    public static bool VerifyConsistency(long first, long second, ReadOnlySpan<byte> firstRoot, ReadOnlySpan<byte> secondRoot, IReadOnlyList<byte[]> proof)
    {
        if (first < 1 || first > second || proof.Any(p => p.Length != MerkleTree.HashSize))
            return false;
        if (first == second)
            return proof.Count == 0 && firstRoot.SequenceEqual(secondRoot);
        var path = new List<byte[]>(proof);
        if ((first & (first - 1)) == 0)
            path.Insert(0, firstRoot.ToArray());
        if (path.Count == 0)
            return false;
        long fn = first - 1, sn = second - 1;
        while ((fn & 1) == 1)
        {
            fn >>= 1;
            sn >>= 1;
        }

        var fr = path[0];
        var sr = path[0];
        foreach (var c in path.Skip(1))
        {
            if (sn == 0)
                return false;
            if ((fn & 1) == 1 || fn == sn)
            {
                fr = MerkleTree.NodeHash(c, fr);
                sr = MerkleTree.NodeHash(c, sr);
                if ((fn & 1) == 0)
                {
                    while ((fn & 1) == 0 && fn != 0)
                    {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            }
            else
            {
                sr = MerkleTree.NodeHash(sr, c);
            }

            fn >>= 1;
            sn >>= 1;
        }

        return sn == 0 && fr.AsSpan().SequenceEqual(firstRoot) && sr.AsSpan().SequenceEqual(secondRoot);
    }

    /// <summary>MTH over leaves [start, start + count): the compact range, so O(count) hashing and O(log) memory.</summary>
    internal static byte[] Root(IReadOnlyList<byte[]> leaves, int start, int count)
    {
        var tree = new MerkleTree();
        for (var i = start; i < start + count; i++)
            tree.Append(leaves[i]);
        return tree.Root();
    }

    /// <summary>The largest power of two smaller than <paramref name="n"/> (n ≥ 2).</summary>
    public static long Split(long n)
    {
        var k = 1L;
        while (k << 1 < n)
            k <<= 1;
        return k;
    }
}
