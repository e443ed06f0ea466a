using Rotation.Core;
using Vault.Core.Segments;
using Vault.Storage;
using Vault.Storage.Segments;

namespace Rotation.Service;

/// <summary>A set as the images' file marks describe it.</summary>
public sealed record TapeSet(string SetId, string Source, DateTimeOffset SealedAt, string ManifestHash, IReadOnlyList<string> Labels);

/// <summary>A damaged place in an image: which, where, what.</summary>
public sealed record TapeDamage(string Image, long Offset, string Problem);

/// <summary>
/// Tape images read on their own, without the vault's database: every image in the given directories is scanned
/// record by record (each checksum checked), and segments are served from the first intact copy; a damaged record,
/// or one whose content no longer matches its hash, falls back to the next copy.
/// </summary>
public sealed class TapeLibrary : ISegmentReader
{
    private readonly Dictionary<string, List<(string Image, long Offset)>> _segments = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TapeSet> _sets = new(StringComparer.Ordinal);
    private readonly List<TapeDamage> _damage = [];
    private readonly object _gate = new();

    public IReadOnlyDictionary<string, TapeSet> Sets => _sets;
    public IReadOnlyList<TapeDamage> Damage => _damage;
    public int Images { get; private set; }
    public int Fallbacks { get; private set; }

    /// <summary>Opens every image in these directories, or only those named in <paramref name="labels"/> when given.</summary>
    public static TapeLibrary Open(IEnumerable<string> directories, IReadOnlySet<string>? labels = null)
    {
        var library = new TapeLibrary();
        foreach (var directory in directories)
        {
            IEnumerable<string> images = File.Exists(directory) ? [directory] : Directory.EnumerateFiles(directory, "*" + SiteLayout.Extension).Order(StringComparer.Ordinal);
            foreach (var image in images)
            {
                if (labels is null || labels.Contains(Path.GetFileNameWithoutExtension(image)))
                    library.Scan(image);
            }
        }

        return library;
    }

    private void Scan(string image)
    {
        Images++;
        using var input = new FileStream(image, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        string? label = null;
        try
        {
            while (TapeFormat.Read(input) is { } record)
            {
                if (!record.Intact)
                {
                    _damage.Add(new TapeDamage(image, record.Offset, $"{record.Type} record fails its checksum"));
                    continue;
                }

                switch (record.Type)
                {
                    case TapeRecordType.Header:
                        label = TapeFormat.ParseJson<TapeHeader>(record.Payload).Label;
                        break;
                    case TapeRecordType.Segment:
                        var (hash, _, _) = TapeFormat.ParseSegment(record.Payload);
                        if (!_segments.TryGetValue(hash, out var places))
                            _segments[hash] = places = [];
                        places.Add((image, record.Offset));
                        break;
                    case TapeRecordType.SetMark:
                        var mark = TapeFormat.ParseJson<TapeSetMark>(record.Payload);
                        _sets[mark.SetId] = _sets.TryGetValue(mark.SetId, out var known)
                            ? known with { Labels = [.. known.Labels, label ?? image] }
                            : new TapeSet(mark.SetId, mark.Source, mark.SealedAt, mark.ManifestHash, [label ?? image]);
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or System.Text.Json.JsonException)
        {
            _damage.Add(new TapeDamage(image, input.Position, ex.Message));
        }
    }

    public bool Holds(string hash) => _segments.ContainsKey(hash);

    public Task<byte[]> ReadAsync(SegmentHash hash, CancellationToken cancellationToken = default)
    {
        if (!_segments.TryGetValue(hash.Hex, out var places))
        {
            throw _damage.Count > 0
                ? new SegmentCorruptException($"Segment {hash} is on none of the surviving media; {_damage.Count} damaged records were skipped and it may be one of them. Add images holding another copy.")
                : new SegmentNotFoundException($"Segment {hash} is on none of the surviving media. Add the images of the rest of its chain.");
        }
        foreach (var (image, offset) in places)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var problem = TryRead(image, offset, hash, out var plaintext);
            if (problem is null)
                return Task.FromResult(plaintext!);
            lock (_gate)
            {
                _damage.Add(new TapeDamage(image, offset, problem));
                Fallbacks++;
            }
        }

        throw new SegmentCorruptException($"Every surviving copy of segment {hash} is damaged ({places.Count} tried).");
    }

    /// <summary>
    /// The stored frame of a segment from its first copy whose record checksum holds, with its plaintext length, for a
    /// store that checks the frame itself (decompressed once, hash compared). Null when no copy's record is intact; the
    /// caller then falls back to <see cref="ReadAsync"/>, which also tries the other copies' contents.
    /// </summary>
    public (long Length, ReadOnlyMemory<byte> Frame)? ReadFrame(SegmentHash hash)
    {
        if (!_segments.TryGetValue(hash.Hex, out var places))
            return null;
        foreach (var (image, offset) in places)
        {
            try
            {
                using var input = new FileStream(image, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
                input.Position = offset;
                if (TapeFormat.Read(input) is { Type: TapeRecordType.Segment, Intact: true } record)
                {
                    var (_, length, frame) = TapeFormat.ParseSegment(record.Payload);
                    return (length, frame);
                }
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException)
            {
            }
        }

        return null;
    }

    private static string? TryRead(string image, long offset, SegmentHash hash, out byte[]? plaintext)
    {
        plaintext = null;
        try
        {
            using var input = new FileStream(image, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            input.Position = offset;
            var record = TapeFormat.Read(input);
            if (record is not { Type: TapeRecordType.Segment, Intact: true })
                return "segment record fails its checksum";
            var (_, length, frame) = TapeFormat.ParseSegment(record.Payload);
            var data = FileSegmentStore.Decompress(frame.Span, (int)Math.Min(length, 64 << 20), exact: true, bad => new InvalidDataException(bad.Message));
            if (SegmentHash.Of(data) != hash)
                return "segment content does not match its hash";
            plaintext = data;
            return null;
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException)
        {
            return ex.Message;
        }
    }
}
