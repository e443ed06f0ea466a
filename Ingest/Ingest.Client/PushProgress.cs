namespace Ingest.Client;

/// <summary>Where a push stands: bytes read, segments seen, sent and deduplicated, bytes that crossed the bus, files (and how many were unchanged, so not read).</summary>
public sealed record PushProgress(long BytesRead, long Segments, long SegmentsSent, long SegmentsDeduplicated, long BytesSent, long Files, long FilesUnchanged)
{
    public double DeduplicatedShare => Segments == 0 ? 0 : (double)SegmentsDeduplicated / Segments;
}

public sealed record PushResult(string SetId, string ManifestHash, PushProgress Totals, TimeSpan Elapsed, Vault.Core.Sets.Manifest Manifest);
