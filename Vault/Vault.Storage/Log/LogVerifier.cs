using System.Threading.Channels;
using Vault.Core.Log;

namespace Vault.Storage.Log;

/// <summary>What a verification found: how many records held, the last good head, and the first violation if any.</summary>
public sealed record VerifyReport(long Checked, LogHead Head, ChainViolation? Violation)
{
    public bool Intact => Violation is null;
}

/// <summary>
/// Sees every record that passed the chain checks, in order, to check what the records mean (vault log verify).
/// A reader fills one <see cref="IRecordCollector"/> per block on its own thread, possibly several blocks at once,
/// straight from the store's buffers where the store allows it (<see cref="IStoredRecordVisitor.Visit"/>), else
/// record by record (<see cref="IRecordCollector.Add"/>); <see cref="Observe"/> then sees the block's records one at
/// a time in position order, by their index in the block.
/// </summary>
public interface IRecordObserver
{
    IRecordCollector Collect(int capacity);

    void Observe(IRecordCollector block, int index);

    /// <summary>The ordered pass is done with the block: its collector may be reused for another block.</summary>
    void Release(IRecordCollector block);
}

/// <summary>Takes in one block's records in position order, each exactly once, by one of its two doors.</summary>
public interface IRecordCollector : IStoredRecordVisitor
{
    void Add(EventRecord record);
}

/// <summary>
/// Verifies a log end to end. The log is read in blocks of positions by one reader per core, each on its own range
/// scan; a reader checks its records' own hashes (they depend on nothing but the record) and lets the observer collect
/// them, and the blocks are then taken in position order to check the links between records, seams included.
/// On a store with <see cref="IRawLogScan"/> (SQLite) no record is built for the chain: it is hashed where it lies.
/// </summary>
public static class LogVerifier
{
    public const int BlockSize = 1024;

    public static async Task<VerifyReport> VerifyAsync(
        IEventLog log, LogHead? trustedStart = null, LogHead? trustedHead = null,
        IProgress<long>? progress = null, CancellationToken cancellationToken = default, IRecordObserver? observer = null, int? readers = null)
    {
        var verifier = new ChainVerifier(trustedStart);
        var from = (trustedStart?.Position ?? 0) + 1;
        var head = (await log.ReadHeadAsync(cancellationToken)).Position;
        var count = Math.Max(1, Math.Min(readers ?? Environment.ProcessorCount, 8));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var lanes = Enumerable.Range(0, count).Select(_ => Channel.CreateBounded<Block>(new BoundedChannelOptions(2) { SingleReader = true, SingleWriter = true })).ToArray();
        var raw = (log as GroupCommitEventLog)?.RawScan;
        var pool = new System.Collections.Concurrent.ConcurrentQueue<ChainLinks>();
        var reading = lanes.Select((lane, i) => Task.Run(() => ReadLaneAsync(log, raw, from, head, i, count, lane.Writer, observer, pool, stop.Token), stop.Token)).ToArray();

        byte[]? hashAtTrustedHead = null;
        ChainViolation? violation = null;
        for (var b = 0; violation is null; b++)
        {
            var lane = lanes[b % count].Reader;
            if (!await lane.WaitToReadAsync(cancellationToken) || !lane.TryRead(out var block))
                break;
            // A block with fewer records than its range (even none) is fine here: the next link check names what is missing.
            var links = block.Links;
            for (var i = 0; i < links.Count && violation is null; i++)
            {
                violation = links.Self[i] ?? verifier.CheckLink(links.Positions[i], links.PreviousHash(i), links.Hash(i));
                if (violation is not null)
                    break;
                if (block.Collected is { } collected)
                    observer!.Observe(collected, i);
                if (trustedHead is not null && links.Positions[i] == trustedHead.Position)
                    hashAtTrustedHead = links.Hash(i).ToArray();
            }

            if (violation is null)
            {
                // Blocks are recycled, so a long verify allocates a few blocks' worth, not the log's size.
                if (block.Collected is { } done)
                    observer!.Release(done);
                pool.Enqueue(links);
            }

            progress?.Report(verifier.Checked);
        }

        await stop.CancelAsync();
        try
        {
            await Task.WhenAll(reading);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }

        if (violation is null && trustedHead is not null)
            violation = verifier.CheckReaches(trustedHead, hashAtTrustedHead);
        return new VerifyReport(verifier.Checked, verifier.Head, violation);
    }

    private sealed record Block(ChainLinks Links, IRecordCollector? Collected);

    /// <summary>A block as the chain check keeps it: each record's position and two hashes, its own hash already checked.</summary>
    private sealed class ChainLinks : IRecordCollector
    {
        private const int H = ChainHash.Size;
        private readonly byte[] _previous = new byte[BlockSize * H];
        private readonly byte[] _hashes = new byte[BlockSize * H];
        private IRecordCollector? _collector;
        private int _size;

        public long[] Positions { get; } = new long[BlockSize];

        public ChainViolation?[] Self { get; } = new ChainViolation?[BlockSize];

        public int Count { get; private set; }

        public ChainLinks Reset(int size, IRecordCollector? collector)
        {
            Array.Clear(Self, 0, Count);
            Count = 0;
            _size = size;
            _collector = collector;
            return this;
        }

        public ReadOnlySpan<byte> PreviousHash(int i) => _previous.AsSpan(i * H, H);

        public ReadOnlySpan<byte> Hash(int i) => _hashes.AsSpan(i * H, H);

        public void Visit(in StoredRecord record)
        {
            if (Count == _size)
                return; // more rows than positions in the range cannot happen (the position is the key); never overrun
            var i = Count++;
            Positions[i] = record.Position;
            if (record.HashMatches())
                Keep(i, record.PreviousHash, record.Hash);
            else
                Self[i] = ChainVerifier.CheckSelf(record.ToRecord()); // rare: the whole record names what moved or changed
            _collector?.Visit(record);
        }

        public void Add(EventRecord record)
        {
            if (Count == _size)
                return;
            var i = Count++;
            Positions[i] = record.Position;
            Self[i] = ChainVerifier.CheckSelf(record);
            if (Self[i] is null)
                Keep(i, record.PreviousHash, record.Hash);
            _collector?.Add(record);
        }

        private void Keep(int i, ReadOnlySpan<byte> previous, ReadOnlySpan<byte> hash)
        {
            previous.CopyTo(_previous.AsSpan(i * H, H));
            hash.CopyTo(_hashes.AsSpan(i * H, H));
        }
    }

    /// <summary>Reads blocks lane, lane + lanes, … of the positions [from, head], each as its own range scan.</summary>
    private static async Task ReadLaneAsync(
        IEventLog log, IRawLogScan? raw, long from, long head, int lane, int lanes, ChannelWriter<Block> writer, IRecordObserver? observer,
        System.Collections.Concurrent.ConcurrentQueue<ChainLinks> pool, CancellationToken ct)
    {
        try
        {
            using var cursor = raw?.OpenCursor();
            for (var start = from + (long)lane * BlockSize; start <= head; start += (long)lanes * BlockSize)
            {
                var end = Math.Min(start + BlockSize - 1, head);
                var size = (int)(end - start + 1);
                var collected = observer?.Collect(size);
                var links = (pool.TryDequeue(out var reused) ? reused : new ChainLinks()).Reset(size, collected);
                if (cursor is not null)
                {
                    cursor.Scan(start, end, links, ct);
                }
                else
                {
                    await foreach (var record in log.ReadAllAsync(start, ct))
                    {
                        if (record.Position > end)
                            break;
                        links.Add(record);
                    }
                }

                await writer.WriteAsync(new Block(links, collected), ct);
            }

            writer.TryComplete();
        }
        catch (Exception ex)
        {
            writer.TryComplete(ex);
            if (ex is not OperationCanceledException)
                throw;
        }
    }
}
