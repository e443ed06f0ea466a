namespace Vault.Core.Checkpoints;

/// <summary>
/// Subtree roots from a cache of block roots: the root of every complete, aligned block of <see cref="BlockSize"/>
/// leaves, so any subtree root needs at most the block roots it spans and the leaves of the one or two blocks a proof
/// touches (fetched on demand). A proof of one record in a tree of a million reads 1,024 record hashes and about a
/// thousand block roots instead of every record. The cache is never trusted: a proof made from it is checked against
/// the signed root before it is shown.
/// </summary>
public sealed class BlockRoots(IReadOnlyList<byte[]> blocks, long count, Func<long, long, IReadOnlyList<byte[]>> recordHashes) : ISubtreeRoots
{
    public const int BlockSize = 1024;

    private readonly Dictionary<long, IReadOnlyList<byte[]>> _leaves = [];

    public long Count => count;

    /// <summary>How many record hashes were read to answer (for the figures).</summary>
    public long LeavesRead { get; private set; }

    public byte[] Root(long start, long length)
    {
        if (length == 1)
            return MerkleTree.LeafHash(Leaf(start));
        var aligned = (length & (length - 1)) == 0 && start % length == 0;
        if (aligned && length >= BlockSize && (start + length) / BlockSize <= blocks.Count)
            return Combine((int)(start / BlockSize), (int)(length / BlockSize));
        if (start / BlockSize == (start + length - 1) / BlockSize)
        {
            var block = Block(start / BlockSize);
            var offset = (int)(start % BlockSize);
            return MerkleProofs.Root(block, offset, (int)length);
        }

        var k = MerkleProofs.Split(length);
        return MerkleTree.NodeHash(Root(start, k), Root(start + k, length - k));
    }

    /// <summary>The root of <paramref name="n"/> (a power of two) consecutive block roots from block <paramref name="first"/>.</summary>
    private byte[] Combine(int first, int n) =>
        n == 1 ? blocks[first] : MerkleTree.NodeHash(Combine(first, n / 2), Combine(first + n / 2, n / 2));

    private byte[] Leaf(long index) => Block(index / BlockSize)[(int)(index % BlockSize)];

    private IReadOnlyList<byte[]> Block(long block)
    {
        if (!_leaves.TryGetValue(block, out var leaves))
        {
            var from = block * BlockSize;
            leaves = recordHashes(from, Math.Min(BlockSize, count - from));
            LeavesRead += leaves.Count;
            _leaves[block] = leaves;
        }

        return leaves;
    }

    /// <summary>The root of one complete block of record hashes.</summary>
    public static byte[] RootOfBlock(IReadOnlyList<byte[]> recordHashes) => MerkleProofs.Root(recordHashes, 0, recordHashes.Count);
}
