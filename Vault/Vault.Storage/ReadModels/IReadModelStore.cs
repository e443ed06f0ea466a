using Vault.Core.ReadModels;

namespace Vault.Storage.ReadModels;

/// <summary>How far a read model has folded the log: the position of the last record it applied and that record's chain hash.</summary>
public sealed record ReadModelCheckpoint(long Position, byte[] Hash)
{
    public static ReadModelCheckpoint Empty { get; } = new(0, new byte[32]);

    public bool Equals(ReadModelCheckpoint? other) => other is not null && Position == other.Position && Hash.AsSpan().SequenceEqual(other.Hash);

    public override int GetHashCode() => Position.GetHashCode();
}

/// <summary>What one projection step writes: the set documents it changed and the reference changes, in log order.</summary>
public sealed class ReadModelBatch
{
    public Dictionary<string, SetRow> Sets { get; } = new(StringComparer.Ordinal);

    public List<ReferenceChange> References { get; } = [];

    public Dictionary<string, RequestRow> Requests { get; } = new(StringComparer.Ordinal);
}

/// <summary>
/// Where the read models live: tables that can be dropped and rebuilt from the log at any time (docs/read-models.md).
/// A batch and the checkpoint move together, in one transaction, and only from the checkpoint the projector started
/// from, so two projectors (two instances, or the service and a CLI command) never apply a record twice.
/// </summary>
public interface IReadModelStore : IAsyncDisposable
{
    /// <summary>Where the tables are, for messages.</summary>
    string Describe { get; }

    Task<ReadModelCheckpoint> ReadCheckpointAsync(CancellationToken cancellationToken);

    /// <summary>Writes the batch and moves the checkpoint from <paramref name="expected"/> to <paramref name="next"/>; false, with nothing written, when another projector moved it first.</summary>
    Task<bool> CommitAsync(ReadModelCheckpoint expected, ReadModelCheckpoint next, ReadModelBatch batch, CancellationToken cancellationToken);

    /// <summary>Empties every table and the checkpoint: the next catch-up rebuilds from the first record.</summary>
    Task ResetAsync(CancellationToken cancellationToken);

    /// <summary>The documents of these sets, where they exist.</summary>
    Task<Dictionary<string, SetRow>> ReadSetsAsync(IReadOnlyCollection<string> setIds, CancellationToken cancellationToken);

    /// <summary>Every set, in the order the sets were opened.</summary>
    Task<IReadOnlyList<SetRow>> ListSetsAsync(CancellationToken cancellationToken);

    /// <summary>Every set as 'vault sets list' shows it, in the order the sets were opened (from one covering index).</summary>
    Task<IReadOnlyList<SetListingRow>> ListSetListingsAsync(CancellationToken cancellationToken);

    /// <summary>The sealed sets sealed from <paramref name="from"/> to <paramref name="to"/>, and every sealed set under a legal hold, in seal order.</summary>
    Task<IReadOnlyList<SealedSetRow>> ListSealedSetsAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken);

    /// <summary>Every protected request, in the order of their first records.</summary>
    Task<IReadOnlyList<RequestRow>> ListRequestsAsync(CancellationToken cancellationToken);

    /// <summary>The segments these sets reference that no other set references, in ordinal order.</summary>
    Task<IReadOnlyList<string>> ReferencedOnlyByAsync(IReadOnlyCollection<string> setIds, CancellationToken cancellationToken);

    /// <summary>Which of these segments some set still references.</summary>
    Task<HashSet<string>> StillReferencedAsync(IReadOnlyCollection<string> hashes, CancellationToken cancellationToken);

    /// <summary>Every (set, segment) reference, ordered by set then segment: for 'vault read-models verify' and tests.</summary>
    Task<IReadOnlyList<(string SetId, string Hash)>> ListReferencesAsync(CancellationToken cancellationToken);

    /// <summary>How many (set, segment) references there are, and how many distinct segments they name.</summary>
    Task<(long References, long Segments)> CountReferencesAsync(CancellationToken cancellationToken);

    /// <summary>
    /// A cached fold kept beside the read models under <paramref name="name"/> (the rotation's media inventory): its
    /// content and the position and chain hash of the last record it folded; null when there is none. A reader checks
    /// that record against the log before trusting the rest, and trusts it for showing only.
    /// </summary>
    Task<ReadModelSnapshot?> ReadSnapshotAsync(string name, CancellationToken cancellationToken);

    /// <summary>Replaces the snapshot under <paramref name="name"/>.</summary>
    Task WriteSnapshotAsync(string name, ReadModelSnapshot snapshot, CancellationToken cancellationToken);
}

/// <summary>
/// A set as a listing shows it: the sealed figures are those of the seal (0 and null while open), RetainUntil the
/// state's (a seal's, or a later one an approver set), HoldsJson the holds in force as the sets table keeps them.
/// </summary>
public sealed record SetListingRow(string SetId, string Source, string Kind, int Status, long FileCount, long TotalBytes, DateTimeOffset OpenedTime, DateTimeOffset? SealedTime, DateTimeOffset RetainUntil, string? HoldsJson);

/// <summary>A sealed set as a rotation plan needs it.</summary>
public sealed record SealedSetRow(string SetId, string Source, DateTimeOffset SealedAt, string ManifestHash, bool Held);

/// <summary>A cached fold: the position and chain hash of the last record folded, and the document.</summary>
public sealed record ReadModelSnapshot(long Position, byte[] Hash, string Content);

/// <summary>A log backend that keeps read models beside its log (SQLite: a file beside it; PostgreSQL: a schema beside it).</summary>
public interface IReadModelSource
{
    Task<IReadModelStore> OpenReadModelsAsync(CancellationToken cancellationToken);
}
