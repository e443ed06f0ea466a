using System.Security.Cryptography;
using Vault.Core.Checkpoints;

namespace Vault.Core.Tests.Checkpoints;

/// <summary>Proofs made from the block-root cache are the proofs made from every leaf; a wrong cache gives a proof that does not verify.</summary>
public sealed class BlockRootsSpecs
{
    private static readonly byte[][] Leaves = [.. Enumerable.Range(0, 5 * BlockRoots.BlockSize + 300).Select(_ => RandomNumberGenerator.GetBytes(32))];

    private static BlockRoots Cache(long size, Func<int, byte[]?>? corrupt = null)
    {
        var blocks = Enumerable.Range(0, (int)(size / BlockRoots.BlockSize))
            .Select(b => corrupt?.Invoke(b) ?? BlockRoots.RootOfBlock(Leaves[(b * BlockRoots.BlockSize)..((b + 1) * BlockRoots.BlockSize)])).ToList();
        return new BlockRoots(blocks, size, (from, count) => Leaves[(int)from..(int)(from + count)]);
    }

    [Fact]
    public void inclusion_and_consistency_proofs_from_the_cache_equal_those_from_every_leaf()
    {
        var random = new Random(7);
        long[] sizes = [1, 2, 1023, 1024, 1025, 2048, 3000, 4096, 5 * BlockRoots.BlockSize + 300, .. Enumerable.Range(0, 20).Select(_ => (long)random.Next(1, Leaves.Length + 1))];
        foreach (var size in sizes)
        {
            for (var i = 0; i < 8; i++)
            {
                var index = random.NextInt64(0, size);
                var cache = Cache(size);
                Assert.Equal(MerkleProofs.Inclusion(Leaves, index, size), MerkleProofs.Inclusion(cache, index, size));
                Assert.True(cache.LeavesRead <= 2L * BlockRoots.BlockSize, $"{cache.LeavesRead} leaves read for one inclusion proof in {size}");
                var first = random.NextInt64(1, size + 1);
                cache = Cache(size);
                Assert.Equal(MerkleProofs.Consistency(Leaves, first, size), MerkleProofs.Consistency(cache, first, size));
                Assert.True(cache.LeavesRead <= 2L * BlockRoots.BlockSize, $"{cache.LeavesRead} leaves read for one consistency proof in {size}");
            }
        }
    }

    [Fact]
    public void a_proof_from_a_damaged_cache_does_not_verify_against_the_true_root()
    {
        var size = (long)Leaves.Length;
        var root = MerkleTree.RootOf(Leaves);
        var damaged = Cache(size, b => b == 1 ? RandomNumberGenerator.GetBytes(32) : null);
        var index = 100L; // in block 0: its path climbs past block 1's root
        var path = MerkleProofs.Inclusion(damaged, index, size);
        Assert.False(MerkleProofs.VerifyInclusion(Leaves[index], index, size, path, root));
        Assert.True(MerkleProofs.VerifyInclusion(Leaves[index], index, size, MerkleProofs.Inclusion(Cache(size), index, size), root));
    }
}
