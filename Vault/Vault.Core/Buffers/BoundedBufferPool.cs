using System.Buffers;
using System.Numerics;

namespace Vault.Core.Buffers;

/// <summary>
/// A pool of byte arrays bounded by the bytes it keeps, not by a count per size. <see cref="ArrayPool{T}.Create()"/>
/// keeps up to N arrays of every power-of-two size, so a workload that passes through many sizes (frames and chunks of
/// every length from a few bytes to 8 MiB) keeps, for each size, what that size's busiest moment needed: measured on
/// a push of small files through RabbitMQ, ~250 MB of live large-object heap (docs/benchmarks.md). This pool keeps at
/// most <see cref="Capacity"/> bytes in all; when a returned array does not fit, arrays of the size classes used
/// least recently go first, and if that does not make room the returned array is left to the collector.
/// <para>
/// Arrays come in four size classes per power of two (2^k × 1.25, 1.5, 1.75, 2), so an 8 MiB frame plus zstd's
/// margin takes a 10 MiB array, not a 16 MiB one. A request is served from its own class or from one of the next
/// four (at most twice the size asked for), else a fresh array is made, uninitialized: a caller writes before it reads,
/// as with any pooled array.
/// </para>
/// </summary>
public sealed class BoundedBufferPool : ArrayPool<byte>
{
    /// <summary>The smallest array handed out: requests below it share one class.</summary>
    public const int MinimumLength = 4096;

    /// <summary>Requests above this are served with an exact fresh array and never kept.</summary>
    public const int MaximumPooledLength = 1 << 28;

    private const int MinimumShift = 12; // log2(MinimumLength)
    private const int ClassesAbove = 4;  // a request may take an array up to four classes larger (at most twice its size)

    private static readonly int[] Sizes = BuildSizes();

    private readonly Stack<byte[]>[] _classes;
    private readonly long[] _lastUsed; // per class: the operation count when it was last asked for
    private readonly Lock _lock = new();
    private long _operations;
    private long _retained;

    public BoundedBufferPool(long capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _capacity = capacity;
        _classes = new Stack<byte[]>[Sizes.Length];
        for (var i = 0; i < _classes.Length; i++)
            _classes[i] = new Stack<byte[]>();
        _lastUsed = new long[Sizes.Length];
    }

    private long _capacity;

    /// <summary>The most bytes this pool keeps between a return and the next rent: its own plus what is reserved now.</summary>
    public long Capacity
    {
        get
        {
            lock (_lock)
                return _capacity;
        }
    }

    /// <summary>
    /// Lets the pool keep <paramref name="bytes"/> more until the reservation is disposed: for work that knows it
    /// holds that much at once and would otherwise make fresh arrays for what the pool could not keep (a restore's
    /// read-ahead). On disposal the pool drops what no longer fits, sizes asked for least recently first.
    /// </summary>
    public IDisposable Reserve(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        lock (_lock)
            _capacity += bytes;
        return new Reservation(this, bytes);
    }

    private void Release(long bytes)
    {
        lock (_lock)
        {
            _capacity -= bytes;
            while (_retained > _capacity && Stalest(except: -1) is var stalest and >= 0)
                _retained -= _classes[stalest].Pop().Length;
        }
    }

    private sealed class Reservation(BoundedBufferPool pool, long bytes) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
                pool.Release(bytes);
        }
    }

    /// <summary>The bytes the pool keeps now.</summary>
    public long RetainedBytes
    {
        get
        {
            lock (_lock)
                return _retained;
        }
    }

    /// <summary>The length of the array a request of <paramref name="minimumLength"/> bytes gets when none is kept.</summary>
    public static int ClassLength(int minimumLength) =>
        minimumLength > MaximumPooledLength ? minimumLength : Sizes[ClassOf(minimumLength)];

    public override byte[] Rent(int minimumLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(minimumLength);
        if (minimumLength > MaximumPooledLength)
            return GC.AllocateUninitializedArray<byte>(minimumLength);
        var index = ClassOf(minimumLength);
        lock (_lock)
        {
            _lastUsed[index] = ++_operations;
            var last = Math.Min(index + ClassesAbove, _classes.Length - 1);
            for (var i = index; i <= last; i++)
            {
                if (_classes[i].TryPop(out var kept))
                {
                    _retained -= kept.Length;
                    return kept;
                }
            }
        }

        return GC.AllocateUninitializedArray<byte>(Sizes[index]);
    }

    public override void Return(byte[] array, bool clearArray = false)
    {
        ArgumentNullException.ThrowIfNull(array);
        if (array.Length > MaximumPooledLength || array.Length < MinimumLength || Sizes[ClassOf(array.Length)] != array.Length)
            return; // not one of ours: left to the collector
        if (clearArray)
            Array.Clear(array);
        var index = ClassOf(array.Length);
        lock (_lock)
        {
            while (_retained + array.Length > _capacity)
            {
                // Make room from the class asked for least recently (not this one); if none is left, drop this array.
                var stalest = Stalest(except: index);
                if (stalest < 0 || _lastUsed[stalest] >= _lastUsed[index])
                    return;
                _retained -= _classes[stalest].Pop().Length;
            }

            _classes[index].Push(array);
            _retained += array.Length;
        }
    }

    /// <summary>The class holding arrays that was asked for least recently, other than <paramref name="except"/>; -1 if none. Under the lock.</summary>
    private int Stalest(int except)
    {
        var stalest = -1;
        for (var i = 0; i < _classes.Length; i++)
        {
            if (i != except && _classes[i].Count > 0 && (stalest < 0 || _lastUsed[i] < _lastUsed[stalest]))
                stalest = i;
        }

        return stalest;
    }

    /// <summary>The class of a length: 0 for up to 4 KiB, then four per power of two.</summary>
    private static int ClassOf(int length)
    {
        if (length <= MinimumLength)
            return 0;
        var shift = BitOperations.Log2((uint)(length - 1)); // 2^shift < length <= 2^(shift+1)
        var step = 1 << (shift - 2);
        var quarter = ((length - (1 << shift)) + step - 1) / step; // 1..4
        return 1 + (shift - MinimumShift) * 4 + (quarter - 1);
    }

    private static int[] BuildSizes()
    {
        var sizes = new List<int> { MinimumLength };
        for (var shift = MinimumShift; (1L << shift) < MaximumPooledLength; shift++)
        {
            for (var quarter = 1; quarter <= 4; quarter++)
                sizes.Add((1 << shift) + quarter * (1 << (shift - 2)));
        }

        return [.. sizes];
    }
}
