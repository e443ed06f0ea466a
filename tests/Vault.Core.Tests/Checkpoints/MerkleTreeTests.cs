using Vault.Core.Checkpoints;

namespace Vault.Core.Tests.Checkpoints;

public sealed class MerkleTreeTests
{
    // The Certificate Transparency reference vectors (RFC 6962): eight leaves and the tree head of every size 0..8.
    private static readonly byte[][] ReferenceLeaves = [.. new[] { "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f" }.Select(Convert.FromHexString)];

    private static readonly string[] ReferenceRoots =
    [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    [Fact]
    public void the_incremental_tree_gives_the_rfc_6962_reference_heads_at_every_size()
    {
        var tree = new MerkleTree();
        Assert.Equal(ReferenceRoots[0], Convert.ToHexStringLower(tree.Root()));
        for (var size = 1; size <= ReferenceLeaves.Length; size++)
        {
            tree.Append(ReferenceLeaves[size - 1]);
            Assert.Equal(ReferenceRoots[size], Convert.ToHexStringLower(tree.Root()));
            Assert.Equal(ReferenceRoots[size], Convert.ToHexStringLower(MerkleTree.RootOf(ReferenceLeaves[..size])));
        }
    }

    [Fact]
    public void appending_agrees_with_the_tree_built_from_scratch_and_a_resumed_tree_agrees_with_both()
    {
        var leaves = Enumerable.Range(0, 300).Select(i => System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i))).ToArray();
        var tree = new MerkleTree();
        for (var size = 1; size <= leaves.Length; size++)
        {
            tree.Append(leaves[size - 1]);
            Assert.Equal(Convert.ToHexStringLower(MerkleTree.RootOf(leaves[..size])), Convert.ToHexStringLower(tree.Root()));
            Assert.Equal(System.Numerics.BitOperations.PopCount((ulong)size), tree.Peaks.Count);
        }

        var resumed = new MerkleTree(137, [.. Rebuilt(leaves[..137]).Peaks]);
        foreach (var leaf in leaves[137..])
            resumed.Append(leaf);
        Assert.Equal(tree.Root(), resumed.Root());
    }

    [Fact]
    public void the_worked_example_of_docs_checkpoints_md_holds()
    {
        var tree = new MerkleTree();
        foreach (var i in new[] { 1, 2, 3 })
            tree.Append(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"record {i}")));

        Assert.Equal("5d0fee3f53628d2939d01d96828ee15ed72311693bc8d3a80b5d7aeb252e1f9a", Convert.ToHexStringLower(tree.Peaks[0]));
        Assert.Equal("0f0a597d04f06576c7aabaab1cbbfa410740f7fa06e2832aa149a1acbdab3752", Convert.ToHexStringLower(tree.Peaks[1]));
        Assert.Equal("9a7b18169294ea23226dbcf18ea80c4714dc6d1f594ceeef3c1381c124807a7e", Convert.ToHexStringLower(tree.Root()));
    }

    [Fact]
    public void a_compact_range_that_does_not_fit_its_size_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new MerkleTree(5, [new byte[32]]));
    }

    private static MerkleTree Rebuilt(byte[][] leaves)
    {
        var tree = new MerkleTree();
        foreach (var leaf in leaves)
            tree.Append(leaf);
        return tree;
    }
}
