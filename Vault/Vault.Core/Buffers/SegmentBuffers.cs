namespace Vault.Core.Buffers;

/// <summary>
/// The one pool for segment-sized buffers (chunks, compression and decompression buffers). Fresh multi-megabyte arrays
/// are expensive here (each can trigger a full collection and page faults), so they are reused; the pool keeps at most
/// <see cref="Capacity"/> bytes in all, whatever the sizes that pass through it (docs/architecture.md, "Buffers").
/// </summary>
public static class SegmentBuffers
{
    /// <summary>
    /// What a push needs at once (its 16 MiB read buffer, 8 MiB of chunks awaiting the dedup query, one chunk per core
    /// in compression) or a service writing a few segments at once (a frame and a plaintext each).
    /// </summary>
    public const long Capacity = 64L << 20;

    public static BoundedBufferPool Pool { get; } = new(Capacity);
}
