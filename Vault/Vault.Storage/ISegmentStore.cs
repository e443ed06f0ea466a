using Vault.Core.Segments;

namespace Vault.Storage;

/// <summary>What a put did: whether the segment was new, and how many bytes it takes on disk.</summary>
/// <param name="StoredSha256">When this put wrote the file: the SHA-256 of the bytes it wrote (the stored frame); null otherwise.</param>
public sealed record SegmentPut(SegmentHash Hash, bool Stored, long StoredBytes, string? StoredSha256 = null);

/// <summary>Anything segments can be read back from, verified against their hash: the store, or tape images.</summary>
public interface ISegmentReader
{
    /// <summary>The plaintext, verified against its hash; a damaged segment throws <see cref="SegmentCorruptException"/>.</summary>
    Task<byte[]> ReadAsync(SegmentHash hash, CancellationToken cancellationToken = default);

    /// <summary>
    /// The same plaintext, possibly in a pooled buffer that returns to its pool when the lease is disposed: for
    /// restores, which copy each segment out once and would otherwise churn through fresh multi-megabyte arrays.
    /// </summary>
    async Task<SegmentLease> LeaseAsync(SegmentHash hash, CancellationToken cancellationToken = default) =>
        new(await ReadAsync(hash, cancellationToken), null);
}

/// <summary>A segment's plaintext, lent out; dispose it once the bytes have been used.</summary>
public sealed class SegmentLease(byte[] buffer, int? length, Action<byte[]>? returnBuffer = null) : IDisposable
{
    private byte[]? _buffer = buffer;

    public ReadOnlyMemory<byte> Memory => (_buffer ?? throw new ObjectDisposedException(nameof(SegmentLease))).AsMemory(0, length ?? _buffer.Length);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } lent)
            returnBuffer?.Invoke(lent);
    }
}

/// <summary>
/// Content-addressed, write-once storage of segments, zstd-compressed at rest. A segment is stored under the SHA-256
/// of its plaintext, never rewritten, and read back only after its hash is checked again.
/// </summary>
public interface ISegmentStore : ISegmentReader
{
    /// <summary>Stores a plaintext segment after checking it hashes to <paramref name="hash"/>; an existing segment is not written again.</summary>
    Task<SegmentPut> PutAsync(SegmentHash hash, ReadOnlyMemory<byte> plaintext, CancellationToken cancellationToken = default);

    /// <summary>Stores a zstd frame as sent by a producer, after decompressing it (bounded) and checking length and hash.</summary>
    Task<SegmentPut> PutCompressedAsync(SegmentHash hash, long plaintextLength, ReadOnlyMemory<byte> zstdFrame, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores a zstd frame that this process made from <paramref name="plaintext"/>, whose SHA-256 this process computed
    /// as <paramref name="hash"/> (an embedded push: producer and vault in one process). The frame is checked by
    /// decompressing it and comparing the result with <paramref name="plaintext"/> byte for byte, instead of hashing it
    /// again: the bytes the hash was computed over are still at hand, so equality proves the frame holds the plaintext
    /// of that hash (docs/architecture.md, "Embedded push"). Never for bytes from elsewhere: a message on the bus cannot
    /// carry a plaintext to compare with. A store that does not compare checks the hash as <see cref="PutCompressedAsync"/> does.
    /// </summary>
    Task<SegmentPut> PutFrameMadeFromAsync(SegmentHash hash, ReadOnlyMemory<byte> plaintext, ReadOnlyMemory<byte> zstdFrame, CancellationToken cancellationToken = default) =>
        PutCompressedAsync(hash, plaintext.Length, zstdFrame, cancellationToken);

    Task<bool> ContainsAsync(SegmentHash hash, CancellationToken cancellationToken = default);

    /// <summary>The segment as stored (one zstd frame of the plaintext), not verified: for copying it elsewhere (media), where it is verified when read.</summary>
    Task<byte[]> ReadStoredAsync(SegmentHash hash, CancellationToken cancellationToken = default);

    /// <summary>Removes a segment's bytes. Only governed deletion calls this, after its execution event is durable.</summary>
    Task<bool> RemoveAsync(SegmentHash hash, CancellationToken cancellationToken = default);

    /// <summary>
    /// The removals lock: held while a deletion decides what it removes and removes it, while a seal checks that its
    /// segments are held and records itself, and while a hold is placed. So no segment a set is being sealed with can
    /// go between the check and the record, and no hold can slip in between a deletion's decision and its removal.
    /// Across processes on one host (a lock file in the store).
    /// </summary>
    Task<IAsyncDisposable> LockRemovalsAsync(CancellationToken cancellationToken = default);

    IAsyncEnumerable<SegmentHash> ListAsync(CancellationToken cancellationToken = default);
}
