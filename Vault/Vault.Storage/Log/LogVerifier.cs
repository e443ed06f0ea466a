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
/// <see cref="Prepare"/> gets each block first, on a reader's thread, possibly several blocks at once; whatever it
/// returns comes back with each record of that block to <see cref="Observe"/>, which sees records one at a time in
/// position order.
/// </summary>
public interface IRecordObserver
{
    object? Prepare(EventRecord[] block);

    void Observe(EventRecord record, int index, object? prepared);
}

/// <summary>
/// Verifies a log end to end. The log is read in blocks of positions by one reader per core, each on its own range
/// scan; a reader checks its records' own hashes (they depend on nothing but the record) and lets the observer prepare
/// them, and the blocks are then taken in position order to check the links between records, seams included.
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
        // Chain only, on a store that can show its buffers: hash in place, keep nothing but positions and hashes.
        var raw = observer is null ? (log as GroupCommitEventLog)?.RawScan : null;
        var reading = lanes.Select((lane, i) => Task.Run(
            () => raw is null ? ReadLaneAsync(log, from, head, i, count, lane.Writer, observer, stop.Token) : ScanLaneAsync(raw, from, head, i, count, lane.Writer, stop.Token),
            stop.Token)).ToArray();

        byte[]? hashAtTrustedHead = null;
        ChainViolation? violation = null;
        for (var b = 0; violation is null; b++)
        {
            var lane = lanes[b % count].Reader;
            if (!await lane.WaitToReadAsync(cancellationToken) || !lane.TryRead(out var block))
                break;
            // A block with fewer records than its range (even none) is fine here: the next link check names what is missing.
            if (block.Links is { } links)
            {
                for (var i = 0; i < links.Count && violation is null; i++)
                {
                    violation = links.Self[i] ?? verifier.CheckLink(links.Positions[i], links.PreviousHash(i), links.Hash(i));
                    if (violation is null && trustedHead is not null && links.Positions[i] == trustedHead.Position)
                        hashAtTrustedHead = links.Hash(i).ToArray();
                }

                progress?.Report(verifier.Checked);
                continue;
            }

            for (var i = 0; i < block.Records.Length && violation is null; i++)
            {
                var record = block.Records[i];
                violation = block.SelfViolations[i] ?? verifier.CheckLink(record);
                if (violation is null)
                {
                    observer?.Observe(record, i, block.Prepared);
                    if (trustedHead is not null && record.Position == trustedHead.Position)
                        hashAtTrustedHead = record.Hash;
                }
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

    private sealed record Block(long From, EventRecord[] Records, ChainViolation?[] SelfViolations, object? Prepared, ChainLinks? Links = null);

    /// <summary>A block as the chain-only scan keeps it: each record's position and two hashes, its own hash already checked.</summary>
    private sealed class ChainLinks(int capacity) : IStoredRecordVisitor
    {
        private const int H = ChainHash.Size;
        private readonly byte[] _previous = new byte[capacity * H];
        private readonly byte[] _hashes = new byte[capacity * H];

        public long[] Positions { get; } = new long[capacity];

        public ChainViolation?[] Self { get; } = new ChainViolation?[capacity];

        public int Count { get; private set; }

        public ReadOnlySpan<byte> PreviousHash(int i) => _previous.AsSpan(i * H, H);

        public ReadOnlySpan<byte> Hash(int i) => _hashes.AsSpan(i * H, H);

        public void Visit(in StoredRecord record)
        {
            if (Count == Positions.Length)
                return; // more rows than positions in the range cannot happen (the position is the key); never overrun
            var i = Count++;
            Positions[i] = record.Position;
            if (record.HashMatches())
            {
                record.PreviousHash.CopyTo(_previous.AsSpan(i * H, H));
                record.Hash.CopyTo(_hashes.AsSpan(i * H, H));
            }
            else
            {
                Self[i] = ChainVerifier.CheckSelf(record.ToRecord()); // rare: the full record names what moved or changed
            }
        }
    }

    private static async Task ScanLaneAsync(IRawLogScan scan, long from, long head, int lane, int lanes, ChannelWriter<Block> writer, CancellationToken ct)
    {
        try
        {
            using var cursor = scan.OpenCursor();
            for (var start = from + (long)lane * BlockSize; start <= head; start += (long)lanes * BlockSize)
            {
                var end = Math.Min(start + BlockSize - 1, head);
                var links = new ChainLinks((int)(end - start + 1));
                cursor.Scan(start, end, links, ct);
                await writer.WriteAsync(new Block(start, [], [], null, links), ct);
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

    /// <summary>Reads blocks lane, lane + lanes, … of the positions [from, head], each as its own range scan.</summary>
    private static async Task ReadLaneAsync(IEventLog log, long from, long head, int lane, int lanes, ChannelWriter<Block> writer, IRecordObserver? observer, CancellationToken ct)
    {
        try
        {
            for (var start = from + (long)lane * BlockSize; start <= head; start += (long)lanes * BlockSize)
            {
                var end = Math.Min(start + BlockSize - 1, head);
                var records = new List<EventRecord>(BlockSize);
                await foreach (var record in log.ReadAllAsync(start, ct))
                {
                    if (record.Position > end)
                        break;
                    records.Add(record);
                }

                var block = records.ToArray();
                var self = new ChainViolation?[block.Length];
                for (var i = 0; i < block.Length; i++)
                    self[i] = ChainVerifier.CheckSelf(block[i]);
                var prepared = observer?.Prepare(block);
                await writer.WriteAsync(new Block(start, block, self, prepared), ct);
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
