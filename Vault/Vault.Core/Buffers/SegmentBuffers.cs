namespace Vault.Core.Buffers;

/// <summary>
/// The one pool for segment-sized buffers (chunks, compression and decompression buffers). Fresh multi-megabyte arrays
/// are expensive here (each can trigger a full collection and page faults), so they are reused; the pool keeps at most
/// <see cref="Capacity"/> bytes in all, whatever the sizes that pass through it (docs/architecture.md, "Buffers").
/// </summary>
public static class SegmentBuffers
{
    /// <summary>
    /// About what a push holds at once (its 16 MiB read buffer, 8 MiB of chunks awaiting the dedup query, one chunk per
    /// core in compression). On a 10 GiB push of small files through RabbitMQ, 64 MiB here (34 MiB of frames) peaked
    /// the producer at 305 MB RSS, 32 MiB (16 MiB of frames) at 240–256 MB, for the same CPU (docs/benchmarks.md).
    /// </summary>
    public const long Capacity = 32L << 20;

    public static BoundedBufferPool Pool { get; } = new(Capacity);
}
