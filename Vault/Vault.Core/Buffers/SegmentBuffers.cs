using System.Buffers;

namespace Vault.Core.Buffers;

/// <summary>
/// The one pool for segment-sized buffers (chunks, compression and decompression buffers). Fresh multi-megabyte arrays
/// are expensive here (each can trigger a full collection and page faults), and the shared pool keeps too many of them
/// per core; this one keeps at most <see cref="PerSize"/> arrays of each power-of-two size up to 16 MiB, so what it
/// holds stays bounded (docs/benchmarks.md).
/// </summary>
public static class SegmentBuffers
{
    public const int PerSize = 4;

    public static ArrayPool<byte> Pool { get; } = ArrayPool<byte>.Create(16 << 20, PerSize);
}
