namespace Ingest.Client;

/// <summary>Where a push stands: bytes read, segments seen, sent and deduplicated, and bytes that crossed the bus.</summary>
public sealed record PushProgress(long BytesRead, long Segments, long SegmentsSent, long SegmentsDeduplicated, long BytesSent, long Files)
{
    public double DeduplicatedShare => Segments == 0 ? 0 : (double)SegmentsDeduplicated / Segments;
}

public sealed record PushResult(string SetId, string ManifestHash, PushProgress Totals, TimeSpan Elapsed);
