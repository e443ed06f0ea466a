using System.Diagnostics.Metrics;
using Ingest.Contracts;

namespace Ingest.Service;

/// <summary>
/// The ingest service's instruments (meter "Vault.Ingest"), recorded where every answer leaves the service: segments
/// and bytes accepted, and every rejection by its documented code (docs/wire-format.md), including messages that
/// failed in the error pipe and those that could not be answered at all.
/// </summary>
public static class IngestMetrics
{
    public const string MeterName = "Vault.Ingest";

    private static readonly Meter Meter = new(MeterName);

    public static readonly Counter<long> SegmentsAccepted = Meter.CreateCounter<long>("vault.ingest.segments.accepted", "{segment}",
        "Segments accepted and recorded (deduplicated=true when the store already held the bytes).");

    public static readonly Counter<long> BytesAccepted = Meter.CreateCounter<long>("vault.ingest.bytes.accepted", "By",
        "Plaintext bytes of the segments accepted.");

    public static readonly Counter<long> StoredBytes = Meter.CreateCounter<long>("vault.ingest.bytes.stored", "By",
        "Bytes newly written to the segment store (compressed, after deduplication).");

    public static readonly Counter<long> Rejections = Meter.CreateCounter<long>("vault.ingest.rejections", "{message}",
        "Messages refused, by reply type and code; code 'unanswerable' when no reply could be sent.");

    public static readonly Counter<long> Sealed = Meter.CreateCounter<long>("vault.ingest.sets.sealed", "{set}", "Backup sets sealed.");

    /// <summary>Counts one answer as it is sent.</summary>
    public static void Answered(IngestReply reply, long plaintextBytes = 0)
    {
        if (reply.Code is { } code)
        {
            Rejections.Add(1, new("type", reply.Type), new("code", code));
            return;
        }

        if (reply.Type == IngestReply.SegmentAcceptedType)
        {
            SegmentsAccepted.Add(1, new KeyValuePair<string, object?>("deduplicated", reply.Deduplicated == true));
            BytesAccepted.Add(plaintextBytes);
            if (reply.Deduplicated != true)
                StoredBytes.Add(reply.StoredBytes ?? 0);
        }
        else if (reply.Type == IngestReply.SetSealedType)
        {
            Sealed.Add(1);
        }
    }

    /// <summary>A message that failed and could not be answered (no readable reply queue).</summary>
    public static void Unanswerable(WireKind kind) => Rejections.Add(1, new("type", kind.ToString().ToLowerInvariant()), new("code", "unanswerable"));
}
