using Vault.Core.Buffers;

namespace Vault.Core.Tests.Buffers;

public sealed class BoundedBufferPoolTests
{
    [Theory]
    [InlineData(0, 4096)]
    [InlineData(1, 4096)]
    [InlineData(4096, 4096)]
    [InlineData(4097, 5120)]
    [InlineData(8192, 8192)]
    [InlineData(8193, 10240)]
    [InlineData(8 << 20, 8 << 20)]
    [InlineData((8 << 20) + 32_768, 10 << 20)] // an incompressible 8 MiB chunk's frame: 10 MiB, not 16
    [InlineData((16 << 20) - 1, 16 << 20)]
    public void a_request_gets_the_smallest_class_that_holds_it(int requested, int expected)
    {
        var pool = new BoundedBufferPool(64 << 20);

        var array = pool.Rent(requested);

        Assert.Equal(expected, array.Length);
        Assert.Equal(expected, BoundedBufferPool.ClassLength(requested));
    }

    [Fact]
    public void a_returned_array_is_handed_out_again_for_its_class_and_for_smaller_ones_up_to_half_its_size()
    {
        var pool = new BoundedBufferPool(64 << 20);
        var array = pool.Rent(1 << 20);
        pool.Return(array);

        Assert.Same(array, pool.Rent(1 << 20));
        pool.Return(array);
        Assert.Same(array, pool.Rent(1 << 19)); // four classes down: exactly twice the size asked for
        pool.Return(array);
        Assert.NotSame(array, pool.Rent(448 << 10)); // five classes down: a fresh, smaller array
        Assert.NotSame(array, pool.Rent((1 << 20) + 1)); // too small for a larger class
    }

    [Fact]
    public void what_it_keeps_never_exceeds_its_capacity_whatever_sizes_pass_through()
    {
        var pool = new BoundedBufferPool(10 << 20);
        var random = new Random(7);
        var held = new List<byte[]>();
        for (var round = 0; round < 2_000; round++)
        {
            if (held.Count > 0 && random.Next(2) == 0)
            {
                var i = random.Next(held.Count);
                pool.Return(held[i]);
                held.RemoveAt(i);
            }
            else
            {
                held.Add(pool.Rent(random.Next(1, 9 << 20)));
            }

            Assert.InRange(pool.RetainedBytes, 0, pool.Capacity);
        }

        foreach (var array in held)
            pool.Return(array);
        Assert.InRange(pool.RetainedBytes, 0, pool.Capacity);
        Assert.True(pool.RetainedBytes > 0);
    }

    [Fact]
    public void when_full_the_sizes_asked_for_least_recently_make_room_for_the_ones_in_use()
    {
        var pool = new BoundedBufferPool(4 << 20);
        var old = pool.Rent(4 << 20);
        pool.Return(old); // the pool is full of one 4 MiB array nobody asks for any more

        var current = Enumerable.Range(0, 3).Select(_ => pool.Rent(1 << 20)).ToArray();
        foreach (var array in current)
            pool.Return(array);

        Assert.Equal(3 << 20, pool.RetainedBytes); // the stale 4 MiB array went, the three in use stay
        Assert.Contains(pool.Rent(1 << 20), current);
    }

    [Fact]
    public void a_returned_array_that_does_not_fit_beside_more_recent_ones_is_dropped()
    {
        var pool = new BoundedBufferPool(2 << 20);
        var first = pool.Rent(1 << 20);
        var second = pool.Rent(1 << 20);
        var big = pool.Rent(2 << 20);
        pool.Return(first);
        pool.Return(second); // 2 MiB kept, of the class asked for last but one

        var small = pool.Rent(1 << 20); // the 1 MiB class is now the most recent
        pool.Return(small);
        pool.Return(big); // its class is staler than the 1 MiB one: dropped, not made room for

        Assert.Equal(2 << 20, pool.RetainedBytes);
        Assert.NotSame(big, pool.Rent(2 << 20));
    }

    [Fact]
    public void arrays_that_are_not_of_its_classes_are_never_kept()
    {
        var pool = new BoundedBufferPool(64 << 20);

        pool.Return(new byte[5000]);
        pool.Return(new byte[100]);
        pool.Return(new byte[(1 << 20) + 1]);

        Assert.Equal(0, pool.RetainedBytes);
    }

    [Fact]
    public void concurrent_renters_never_share_an_array()
    {
        var pool = new BoundedBufferPool(1 << 20);
        Parallel.For(0, 8, worker =>
        {
            var random = new Random(worker);
            for (var i = 0; i < 2_000; i++)
            {
                var array = pool.Rent(random.Next(1, 64 << 10));
                array.AsSpan(0, 4096).Fill((byte)worker);
                Thread.Yield();
                Assert.True(array.AsSpan(0, 4096).IndexOfAnyExcept((byte)worker) < 0, "another renter wrote into this array");
                pool.Return(array);
            }
        });

        Assert.InRange(pool.RetainedBytes, 1, pool.Capacity);
    }

    [Fact]
    public void a_reservation_lets_it_keep_more_until_disposed_then_it_drops_back_to_its_own_capacity()
    {
        var pool = new BoundedBufferPool(1 << 20);
        var reservation = pool.Reserve(3 << 20);
        var arrays = Enumerable.Range(0, 4).Select(_ => pool.Rent(1 << 20)).ToArray();
        foreach (var array in arrays)
            pool.Return(array);
        Assert.Equal(4 << 20, pool.Capacity);
        Assert.Equal(4 << 20, pool.RetainedBytes);

        reservation.Dispose();
        reservation.Dispose(); // once only

        Assert.Equal(1 << 20, pool.Capacity);
        Assert.Equal(1 << 20, pool.RetainedBytes);
        Assert.Contains(pool.Rent(1 << 20), arrays);
    }
}
