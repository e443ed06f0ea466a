using System.Collections.Concurrent;
using Vault.Core.Errors;
using Vault.Core.Segments;
using Vault.Core.Sets;
using Vault.Storage;
using Vault.Storage.Segments;

namespace Vault.Services;

/// <summary>Where a damaged or missing segment is used: a set and a file of it ("(manifest)" for the set's manifest).</summary>
public sealed record SegmentUse(string SetId, string Path);

/// <summary>One stored segment that did not read back as written, or one a sealed set needs that the store lacks.</summary>
public sealed record SegmentDamage(string Hash, string Problem, IReadOnlyList<SegmentUse> UsedBy);

public sealed record ScrubReport(long Checked, long Stored, long StoredBytes, long PlaintextBytes, IReadOnlyList<SegmentDamage> Damage, IReadOnlyList<SegmentDamage> Missing, TimeSpan Elapsed)
{
    /// <summary>How many of the checked segments were decompressed and hashed (the rest matched the SHA-256 recorded for their file).</summary>
    public long Decompressed { get; init; }
}

/// <summary>
/// A data scrub, as restic's check --read-data and ZFS's scrub: re-read every stored segment (or a random sample),
/// decompress it and check its SHA-256, on every core, and name each damaged one by the sets and files that use it;
/// and list what sealed sets need that the store does not hold. Reading changes nothing.
/// </summary>
public sealed class Scrubber(IEventLog log, FileSegmentStore store, TimeProvider clock)
{
    /// <param name="deep">
    /// Decompress and hash every segment. Without it, a file whose SHA-256 equals the one the log recorded when it was
    /// written is exactly the bytes ingest verified then, and is not decompressed; every other file (no such record,
    /// or a different one) is checked deeply.
    /// </param>
    public async Task<ScrubReport> RunAsync(double samplePercent, IProgress<(long Done, long Total, long Bytes)>? progress, CancellationToken ct, bool deep = false)
    {
        var started = clock.GetTimestamp();
        // Which sets and files use each segment is needed only to name damage and to find what is missing: it is read
        // from the log and the manifests while the segments are being checked, not before.
        var reading = Task.Run(() => UsesAsync(ct), ct);
        var recorded = deep ? [] : await RecordedAsync(ct);
        var stored = new List<SegmentHash>();
        await foreach (var hash in store.ListAsync(ct))
            stored.Add(hash);
        var held = stored.Select(h => h.Hex).ToHashSet(StringComparer.Ordinal);
        var sample = samplePercent >= 100 ? stored : [.. stored.Where(_ => Random.Shared.NextDouble() * 100 < samplePercent)];

        var damage = new ConcurrentBag<SegmentDamage>();
        long done = 0, storedBytes = 0, plaintext = 0, decompressed = 0;
        // Synchronous reads on one worker per core: every segment is decompressed and hashed where it was read,
        // streaming through a cache-sized window (FileSegmentStore.Verify), with no hop through the thread pool.
        await Task.Run(() => Parallel.ForEach(sample, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = ct }, hash =>
        {
            try
            {
                var known = recorded.GetValueOrDefault(hash.Hex);
                var (length, deeply) = store.Verify(hash, known.StoredSha256);
                Interlocked.Add(ref plaintext, deeply ? length : known.Length);
                if (deeply)
                    Interlocked.Increment(ref decompressed);
            }
            catch (Exception ex) when (ex is SegmentCorruptException or SegmentNotFoundException or IOException)
            {
                damage.Add(new SegmentDamage(hash.Hex, ex.Message, []));
            }

            Interlocked.Add(ref storedBytes, store.StoredLength(hash) ?? 0);
            var n = Interlocked.Increment(ref done);
            if (n % 64 == 0)
                progress?.Report((n, sample.Count, Interlocked.Read(ref plaintext)));
        }), ct);

        var uses = await reading;
        var missing = uses.Where(u => !held.Contains(u.Key))
            .Select(u => new SegmentDamage(u.Key, "a sealed set needs it, but the store does not hold it", u.Value))
            .OrderBy(d => d.Hash, StringComparer.Ordinal).ToList();
        var damaged = damage.Select(d => d with { UsedBy = uses.GetValueOrDefault(d.Hash) ?? [] }).OrderBy(d => d.Hash, StringComparer.Ordinal).ToList();
        return new ScrubReport(sample.Count, stored.Count, storedBytes, plaintext, damaged, missing, clock.GetElapsedTime(started)) { Decompressed = decompressed };
    }

    /// <summary>For each segment, the SHA-256 of its file and its plaintext length as the last record that wrote it says.</summary>
    private async Task<Dictionary<string, (string? StoredSha256, long Length)>> RecordedAsync(CancellationToken ct)
    {
        var recorded = new Dictionary<string, (string?, long)>(StringComparer.Ordinal);
        await foreach (var record in log.ReadAllAsync(1, ct))
        {
            if (record.EventType == SegmentStored.EventType && EventCodec.Decode(record) is SegmentStored { StoredSha256: { } sha } s)
                recorded[s.Hash] = (sha, s.Length);
        }

        return recorded;
    }

    /// <summary>Every segment a sealed set uses, with the sets and files that use it; a manifest that cannot be read is itself damage found later.</summary>
    private async Task<Dictionary<string, List<SegmentUse>>> UsesAsync(CancellationToken ct)
    {
        var uses = new Dictionary<string, List<SegmentUse>>(StringComparer.Ordinal);
        void Use(string hash, string set, string path)
        {
            if (!uses.TryGetValue(hash, out var list))
                uses[hash] = list = [];
            list.Add(new SegmentUse(set, path));
        }

        foreach (var set in (await new BackupSets(log).ListAsync(ct)).Where(s => s.Status == SetStatus.Sealed))
        {
            var id = set.Sealed!.SetId;
            Use(set.Sealed.ManifestHash, id, "(manifest)");
            try
            {
                var manifest = await SetRestorer.ReadManifestAsync(store, set.Sealed, ct);
                foreach (var entry in manifest.Entries)
                {
                    foreach (var hash in entry.Segments ?? [])
                        Use(hash, id, entry.Path);
                }
            }
            catch (Exception ex) when (ex is VaultException or System.Text.Json.JsonException)
            {
                // The manifest's own segment is damaged or missing: the scrub reports it under "(manifest)".
            }
        }

        return uses;
    }
}
