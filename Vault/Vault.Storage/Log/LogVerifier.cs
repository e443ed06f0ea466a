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
/// <see cref="Prepare"/> gets each chunk first and may work on it in parallel; <see cref="Observe"/> then gets each
/// record of it in position order, with its index in the chunk.
/// </summary>
public interface IRecordObserver
{
    void Prepare(EventRecord[] chunk);

    void Observe(EventRecord record, int index);
}

/// <summary>
/// Verifies a log end to end. Reading runs ahead on one task while records' own hashes are checked in parallel
/// per chunk (they depend on nothing but the record), and links are checked in order.
/// </summary>
public static class LogVerifier
{
    private const int ChunkSize = 4096;

    public static async Task<VerifyReport> VerifyAsync(
        IEventLog log, LogHead? trustedStart = null, LogHead? trustedHead = null,
        IProgress<long>? progress = null, CancellationToken cancellationToken = default, IRecordObserver? observer = null)
    {
        var verifier = new ChainVerifier(trustedStart);
        var chunks = Channel.CreateBounded<EventRecord[]>(new BoundedChannelOptions(4) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reading = ReadChunksAsync(log, (trustedStart?.Position ?? 0) + 1, chunks.Writer, stop.Token);

        byte[]? hashAtTrustedHead = null;
        ChainViolation? violation = null;
        var selfViolations = new ChainViolation?[ChunkSize];
        await foreach (var chunk in chunks.Reader.ReadAllAsync(cancellationToken))
        {
            Parallel.For(0, chunk.Length, i => selfViolations[i] = ChainVerifier.CheckSelf(chunk[i]));
            observer?.Prepare(chunk);
            for (var i = 0; i < chunk.Length && violation is null; i++)
            {
                violation = selfViolations[i] ?? verifier.CheckLink(chunk[i]);
                if (violation is null)
                    observer?.Observe(chunk[i], i);
                if (violation is null && trustedHead is not null && chunk[i].Position == trustedHead.Position)
                    hashAtTrustedHead = chunk[i].Hash;
            }

            progress?.Report(verifier.Checked);
            if (violation is not null)
            {
                await stop.CancelAsync();
                break;
            }
        }

        try
        {
            await reading;
        }
        catch (OperationCanceledException) when (violation is not null)
        {
        }

        if (violation is null && trustedHead is not null)
            violation = verifier.CheckReaches(trustedHead, hashAtTrustedHead);
        return new VerifyReport(verifier.Checked, verifier.Head, violation);
    }

    private static async Task ReadChunksAsync(IEventLog log, long from, ChannelWriter<EventRecord[]> writer, CancellationToken cancellationToken)
    {
        try
        {
            var chunk = new List<EventRecord>(ChunkSize);
            await foreach (var record in log.ReadAllAsync(from, cancellationToken))
            {
                chunk.Add(record);
                if (chunk.Count == ChunkSize)
                {
                    await writer.WriteAsync([.. chunk], cancellationToken);
                    chunk.Clear();
                }
            }

            if (chunk.Count > 0)
                await writer.WriteAsync([.. chunk], cancellationToken);
            writer.TryComplete();
        }
        catch (Exception ex)
        {
            writer.TryComplete(ex);
            throw;
        }
    }
}
