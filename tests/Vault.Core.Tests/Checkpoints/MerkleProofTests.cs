using System.Security.Cryptography;
using Vault.Core.Checkpoints;

namespace Vault.Core.Tests.Checkpoints;

/// <summary>RFC 9162 inclusion and consistency proofs: every leaf and every pair of sizes up to 40, and each kind of forgery.</summary>
public sealed class MerkleProofTests
{
    private static readonly byte[][] Hashes = [.. Enumerable.Range(0, 40).Select(i => SHA256.HashData(BitConverter.GetBytes(i)))];

    private static byte[] RootOf(int size) => MerkleTree.RootOf(Hashes[..size]);

    [Fact]
    public void every_leaf_of_every_tree_up_to_40_has_a_proof_that_holds_and_fails_for_any_other_leaf_index_size_or_path()
    {
        for (var size = 1; size <= Hashes.Length; size++)
        {
            var root = RootOf(size);
            for (var index = 0; index < size; index++)
            {
                var path = MerkleProofs.Inclusion(Hashes, index, size);
                Assert.True(MerkleProofs.VerifyInclusion(Hashes[index], index, size, path, root), $"leaf {index} of {size}");
                Assert.False(MerkleProofs.VerifyInclusion(Hashes[(index + 1) % Hashes.Length], index, size, path, root));
                if (size > 1)
                    Assert.False(MerkleProofs.VerifyInclusion(Hashes[index], (index + 1) % size, size, path, root));
                if (size < Hashes.Length)
                    Assert.False(MerkleProofs.VerifyInclusion(Hashes[index], index, size + 1, path, RootOf(size + 1))); // a proof for another tree head
                Assert.False(MerkleProofs.VerifyInclusion(Hashes[index], index, size, path, RootOf(size == 1 ? 2 : size - 1)));
                for (var p = 0; p < path.Count; p++)
                {
                    var forged = path.Select(x => x.ToArray()).ToList();
                    forged[p][0] ^= 1;
                    Assert.False(MerkleProofs.VerifyInclusion(Hashes[index], index, size, forged, root));
                }

                Assert.InRange(path.Count, 0, (int)Math.Ceiling(Math.Log2(size))); // O(log n), as RFC 9162 promises
            }
        }
    }

    [Fact]
    public void every_pair_of_sizes_up_to_40_has_a_consistency_proof_that_holds_and_fails_for_other_roots_or_a_changed_step()
    {
        for (var second = 1; second <= Hashes.Length; second++)
        {
            for (var first = 1; first <= second; first++)
            {
                var proof = MerkleProofs.Consistency(Hashes, first, second);
                Assert.True(MerkleProofs.VerifyConsistency(first, second, RootOf(first), RootOf(second), proof), $"{first} -> {second}");
                if (first < second)
                {
                    Assert.False(MerkleProofs.VerifyConsistency(first, second, RootOf(first + 1), RootOf(second), proof));
                    var rewritten = Hashes.Select(h => h.ToArray()).ToArray();
                    rewritten[first - 1][0] ^= 1; // history up to the first size rewritten: the new tree is not an extension
                    Assert.False(MerkleProofs.VerifyConsistency(first, second, RootOf(first), MerkleTree.RootOf(rewritten[..second]), proof));
                }

                for (var p = 0; p < proof.Count; p++)
                {
                    var forged = proof.Select(x => x.ToArray()).ToList();
                    forged[p][^1] ^= 0x80;
                    Assert.False(MerkleProofs.VerifyConsistency(first, second, RootOf(first), RootOf(second), forged));
                }
            }
        }
    }
}
