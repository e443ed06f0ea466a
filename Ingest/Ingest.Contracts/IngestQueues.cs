namespace Ingest.Contracts;

/// <summary>Where producers send (docs/wire-format.md). One queue per command, each carrying plain JSON of one shape.</summary>
public static class IngestQueues
{
    public const string OpenSet = "vault.ingest.open";
    public const string PutSegment = "vault.ingest.segment";
    public const string SealSet = "vault.ingest.seal";
    public const string QuerySegments = "vault.ingest.query";

    /// <summary>Each producer's own reply queue: vault.reply.{producer}.</summary>
    public static string ReplyQueue(string producer) => "vault.reply." + producer;

    /// <summary>The largest plaintext segment accepted; the chunker's maximum.</summary>
    public const int MaxSegmentBytes = 8 * 1024 * 1024;

    /// <summary>The largest manifest accepted inline in a seal message.</summary>
    public const int MaxManifestBytes = 32 * 1024 * 1024;
}
