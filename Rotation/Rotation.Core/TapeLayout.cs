namespace Rotation.Core;

/// <summary>
/// How much of a medium a write takes, shared by the image writer and the planner/simulator so both span alike.
/// A record costs its payload plus <see cref="RecordOverhead"/> bytes; every medium keeps room for its header and its
/// closing catalog (a conservative estimate per segment and per set on it).
/// </summary>
public static class TapeLayout
{
    /// <summary>Magic (4), type (1), flags (1), reserved (2), length (4), and the SHA-256 after the payload (32).</summary>
    public const int RecordOverhead = 44;

    /// <summary>A segment record's payload prefix: the 32-byte hash and the 8-byte plaintext length.</summary>
    public const int SegmentPrefix = 40;

    public const long HeaderReserve = 1024;
    public const long CatalogPerSegment = 160;
    public const long CatalogPerSet = 512;
    public const long CatalogBase = 2048;

    /// <summary>A medium must take at least one maximum-size segment (8 MiB, stored) and its catalog.</summary>
    public const long MinimumCapacity = (8L << 20) + 64 * 1024;

    public static long SegmentRecordBytes(long storedBytes) => storedBytes + SegmentPrefix + RecordOverhead;

    /// <summary>Would a medium holding <paramref name="used"/> bytes, <paramref name="segments"/> segments and <paramref name="sets"/> set marks still close properly after one more record?</summary>
    public static bool Fits(long capacity, long used, long recordBytes, int segments, int sets) =>
        used + recordBytes + CatalogBase + (segments + 1) * CatalogPerSegment + (sets + 1) * CatalogPerSet <= capacity;
}
