using Vault.Core.ReadModels;
using Vault.Core.Sets;
using Vault.Storage.Log;
using Vault.Storage.ReadModels;
using Vault.Storage.Tests.Support;

namespace Vault.Storage.Tests.ReadModels;

/// <summary>
/// What every read-model store must do, bound to SQLite and to PostgreSQL (as the service role, which 'vault init'
/// lets create tables in the read-model schema only): a batch and its checkpoint move together and only from the
/// checkpoint the projector started from; the reference queries answer what a deletion needs; a reset empties all.
/// </summary>
public abstract class ReadModelStoreConformance<TBinding> : IAsyncLifetime where TBinding : ILogBinding, new()
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
    private readonly TBinding _binding = new();
    private IEventLog _log = null!;
    private IReadModelStore _store = null!;

    public async Task InitializeAsync()
    {
        _log = await _binding.OpenAsync();
        _store = await ((GroupCommitEventLog)_log).ReadModels!.OpenReadModelsAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        await _log.DisposeAsync();
        await _binding.DisposeAsync();
    }

    private static string H(int i) => i.ToString("x64");

    private static SetRow Row(string id, SetStatus status, long position) =>
        new SetDocument(new BackupSetState { Status = status, Opened = new SetOpened(id, "web", "n", "tree", new Dictionary<string, string> { ["env"] = "prod" }, T0), RetainUntil = T0.AddDays(1) },
            3, 1200, position, position).ToRow();

    private static ReadModelCheckpoint At(long position) => new(position, System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(position)));

    [Fact]
    public async Task a_batch_commits_with_its_checkpoint_and_only_from_the_checkpoint_it_started_from()
    {
        var first = new ReadModelBatch();
        first.Sets["s1"] = Row("s1", SetStatus.Open, 1);
        first.References.Add(new ReferenceChange("s1", ReferenceChangeKind.Add, [H(1), H(2)]));

        Assert.True(await _store.CommitAsync(ReadModelCheckpoint.Empty, At(5), first, CancellationToken.None));
        var stale = new ReadModelBatch();
        stale.Sets["s2"] = Row("s2", SetStatus.Open, 2);
        stale.References.Add(new ReferenceChange("s2", ReferenceChangeKind.Add, [H(3)]));
        Assert.False(await _store.CommitAsync(ReadModelCheckpoint.Empty, At(6), stale, CancellationToken.None));
        Assert.False(await _store.CommitAsync(new ReadModelCheckpoint(5, new byte[32]), At(6), stale, CancellationToken.None)); // right position, wrong hash

        Assert.Equal(At(5), await _store.ReadCheckpointAsync(CancellationToken.None));
        Assert.Equal(["s1"], (await _store.ListSetsAsync(CancellationToken.None)).Select(r => r.SetId));
        Assert.Equal([("s1", H(1)), ("s1", H(2))], await _store.ListReferencesAsync(CancellationToken.None));
        Assert.Equal(first.Sets["s1"], (await _store.ReadSetsAsync(["s1", "nope"], CancellationToken.None))["s1"]);
    }

    [Fact]
    public async Task references_answer_which_bytes_only_the_targets_need_and_a_reset_empties_everything()
    {
        var batch = new ReadModelBatch();
        foreach (var (id, i) in new[] { ("a", 1), ("b", 2), ("c", 3) })
            batch.Sets[id] = Row(id, SetStatus.Sealed, i);
        batch.References.Add(new ReferenceChange("a", ReferenceChangeKind.Add, [H(1), H(2), H(9)]));
        batch.References.Add(new ReferenceChange("a", ReferenceChangeKind.Replace, [H(1), H(2), H(3)])); // sealed: exactly its manifest
        batch.References.Add(new ReferenceChange("b", ReferenceChangeKind.Replace, [H(2), H(4)]));
        batch.References.Add(new ReferenceChange("c", ReferenceChangeKind.Replace, [H(3), H(5)]));
        Assert.True(await _store.CommitAsync(ReadModelCheckpoint.Empty, At(3), batch, CancellationToken.None));

        Assert.Equal([H(1)], await _store.ReferencedOnlyByAsync(["a"], CancellationToken.None));
        Assert.Equal([H(1), H(2), H(4)], await _store.ReferencedOnlyByAsync(["a", "b"], CancellationToken.None));
        Assert.Equal(new HashSet<string> { H(2), H(3) }, await _store.StillReferencedAsync([H(2), H(3), H(9)], CancellationToken.None));
        Assert.Equal((7L, 5L), await _store.CountReferencesAsync(CancellationToken.None));

        var deletion = new ReadModelBatch();
        deletion.References.Add(new ReferenceChange("c", ReferenceChangeKind.Clear, []));
        Assert.True(await _store.CommitAsync(At(3), At(4), deletion, CancellationToken.None));
        Assert.Equal([H(1), H(3)], await _store.ReferencedOnlyByAsync(["a"], CancellationToken.None));

        await _store.WriteSnapshotAsync("rotation", new ReadModelSnapshot(4, At(4).Hash, "{}"), CancellationToken.None);
        await _store.ResetAsync(CancellationToken.None);
        Assert.Equal(ReadModelCheckpoint.Empty, await _store.ReadCheckpointAsync(CancellationToken.None));
        Assert.Empty(await _store.ListSetsAsync(CancellationToken.None));
        Assert.Empty(await _store.ListReferencesAsync(CancellationToken.None));
        Assert.Null(await _store.ReadSnapshotAsync("rotation", CancellationToken.None));
    }

    private static SetRow Sealed(string id, DateTimeOffset at, long position, bool held = false)
    {
        var placed = new LegalHoldPlaced(id, "hold-" + id, "case", "alice", "sig", at);
        var state = new BackupSetState
        {
            Status = SetStatus.Sealed, Opened = new SetOpened(id, "src-" + id, "n", "stream", new Dictionary<string, string>(), at.AddMinutes(-5)),
            Sealed = new SetSealed(id, H((int)position), 100, 4, 3, 5_000_000 + position, at.AddDays(30), at), RetainUntil = at.AddDays(40),
            Holds = held ? System.Collections.Immutable.ImmutableSortedDictionary.Create<string, LegalHoldPlaced>(StringComparer.Ordinal).Add(placed.HoldId, placed)
                : System.Collections.Immutable.ImmutableSortedDictionary.Create<string, LegalHoldPlaced>(StringComparer.Ordinal),
        };
        return new SetDocument(state, 4, 1200, position, position).ToRow();
    }

    /// <summary>
    /// The listing ('sets list') and the rotation plan's window read only some columns: they must say what the full
    /// rows say. The cached media inventory is kept under its name, replaced whole.
    /// </summary>
    [Fact]
    public async Task the_listing_and_the_window_say_what_the_rows_say_and_a_snapshot_is_kept_by_name()
    {
        var batch = new ReadModelBatch();
        batch.Sets["old-held"] = Sealed("old-held", T0.AddDays(-400), 1, held: true);
        batch.Sets["old"] = Sealed("old", T0.AddDays(-300), 2);
        batch.Sets["recent"] = Sealed("recent", T0.AddDays(-3), 3);
        batch.Sets["open"] = Row("open", SetStatus.Open, 4);
        Assert.True(await _store.CommitAsync(ReadModelCheckpoint.Empty, At(4), batch, CancellationToken.None));

        var listing = await _store.ListSetListingsAsync(CancellationToken.None);
        var full = await _store.ListSetsAsync(CancellationToken.None);
        Assert.Equal(full.Select(r => r.SetId), listing.Select(r => r.SetId));
        foreach (var (l, r) in listing.Zip(full))
        {
            Assert.Equal((r.Source, r.Kind, r.Status, r.FileCount, r.TotalBytes, r.OpenedTime, r.SealedTime, r.RetainUntil, r.HoldsJson),
                (l.Source, l.Kind, l.Status, l.FileCount, l.TotalBytes, l.OpenedTime, l.SealedTime, l.RetainUntil, l.HoldsJson));
        }

        Assert.Equal(["hold-old-held"], SetDocument.HoldIds(listing.Single(l => l.SetId == "old-held").HoldsJson));
        var window = await _store.ListSealedSetsAsync(T0.AddDays(-30), T0, CancellationToken.None);
        Assert.Equal([("old-held", true), ("recent", false)], window.Select(w => (w.SetId, w.Held)));
        Assert.Equal(("src-recent", T0.AddDays(-3), H(3)), (window[1].Source, window[1].SealedAt, window[1].ManifestHash));

        Assert.Null(await _store.ReadSnapshotAsync("rotation", CancellationToken.None));
        await _store.WriteSnapshotAsync("rotation", new ReadModelSnapshot(3, At(3).Hash, "{\"a\":1}"), CancellationToken.None);
        await _store.WriteSnapshotAsync("rotation", new ReadModelSnapshot(4, At(4).Hash, "{\"a\":2}"), CancellationToken.None);
        var snapshot = await _store.ReadSnapshotAsync("rotation", CancellationToken.None);
        Assert.Equal((4L, "{\"a\":2}"), (snapshot!.Position, snapshot.Content));
        Assert.Equal(At(4).Hash, snapshot.Hash);
        Assert.Null(await _store.ReadSnapshotAsync("other", CancellationToken.None));
    }
}

public sealed class SqliteReadModelStoreConformance : ReadModelStoreConformance<SqliteBinding>;

public sealed class PostgresReadModelStoreConformance : ReadModelStoreConformance<PostgresBinding>;
