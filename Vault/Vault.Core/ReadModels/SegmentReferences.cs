using Vault.Core.Sets;

namespace Vault.Core.ReadModels;

/// <summary>What one event does to the segment references of one set.</summary>
public enum ReferenceChangeKind
{
    /// <summary>An open set recorded segments (a push under way): they are referenced from now on.</summary>
    Add,

    /// <summary>The set was sealed: from now on it references exactly its manifest and the segments the manifest names.</summary>
    Replace,

    /// <summary>The set was deleted by a proved request: it references nothing.</summary>
    Clear,
}

public sealed record ReferenceChange(string SetId, ReferenceChangeKind Kind, IReadOnlyCollection<string> Hashes);

/// <summary>
/// The segment references read model: which sets reference which stored segment, so a deletion finds the bytes no
/// other set needs by looking at what it touches instead of reading every manifest. The same rule the deletion has
/// always used: a sealed set references its manifest and the manifest's segments; an open set, what it has recorded.
/// </summary>
public static class SegmentReferences
{
    /// <summary>
    /// Recorded as a reference of a sealed set whose manifest could not be read when it was projected: its real
    /// references are unknown, so no deletion trusts the read model until it is rebuilt after a repair.
    /// </summary>
    public const string Unknown = "unknown:manifest-unreadable";

    /// <summary>
    /// The change one event makes, given the set's state before it; <paramref name="manifest"/> is the sealed set's
    /// manifest, read from the segment store, when the event is its seal. A deletion must already be proved.
    /// </summary>
    public static ReferenceChange? Apply(BackupSetState before, object e, Manifest? manifest) => e switch
    {
        SegmentStored s when before.Status == SetStatus.Open => new ReferenceChange(s.SetId, ReferenceChangeKind.Add, [s.Hash]),
        SetSealed s when before.Status == SetStatus.Open => new ReferenceChange(s.SetId, ReferenceChangeKind.Replace,
            manifest is null ? throw new ArgumentNullException(nameof(manifest), "A seal's references need its manifest.")
                : [.. manifest.SegmentHashes.Append(s.ManifestHash).Distinct(StringComparer.Ordinal)]),
        Governance.RequestExecuted when before.Opened is { } o => new ReferenceChange(o.SetId, ReferenceChangeKind.Clear, []),
        _ => null,
    };
}
