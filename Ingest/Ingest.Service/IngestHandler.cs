using System.Text.RegularExpressions;
using Ingest.Contracts;
using Vault.Core.Errors;
using Vault.Core.Log;
using Vault.Core.Segments;
using Vault.Core.Sets;
using Vault.Services;
using Vault.Storage;

namespace Ingest.Service;

/// <summary>
/// What the ingest service does with each message, independent of the bus: verify, store, record, answer.
/// A segment is stored before its event is appended, and the answer is given only after the event is durable;
/// a redelivered message finds its event and is answered again without a second one.
/// </summary>
public sealed partial class IngestHandler(IEventLog log, ISegmentStore store, TimeProvider clock)
{
    private const string Actor = "ingest";
    private readonly BackupSets _sets = new(log);

    public async Task<IngestReply> OpenAsync(OpenSet m, CancellationToken ct)
    {
        var problem = Invalid(m.SetId, m.Source, m.Name) ?? (m.Kind is not ("tree" or "stream") ? "kind must be \"tree\" or \"stream\"" : null);
        if (problem is not null)
            return SetRejected(m.SetId, "malformed", $"The open-set message is malformed: {problem}.");
        var opened = new SetOpened(m.SetId, m.Source, m.Name, m.Kind, m.Labels ?? [], clock.GetUtcNow());
        try
        {
            await log.AppendAsync(SetStreams.Of(m.SetId), ExpectedVersion.NoStream, [EventCodec.Encode(opened, Actor)], ct);
        }
        catch (WrongExpectedVersionException)
        {
            var (state, _) = await _sets.LoadStreamAsync(m.SetId, ct);
            if (state.Status != SetStatus.Open || state.Opened!.Source != m.Source || state.Opened.Name != m.Name)
                return SetRejected(m.SetId, "set-exists", $"Set {m.SetId} already exists{(state.Status == SetStatus.Sealed ? " and is sealed" : "")}; open a new set id.");
        }

        return new IngestReply { Type = IngestReply.SetOpenedType, SetId = m.SetId };
    }

    /// <param name="madeFrom">
    /// Only from a producer in this same process (<see cref="Ingest.Client.LocalSegment"/>): the plaintext the frame was
    /// made from and its hash computed over, so the frame is checked by comparison instead of by hashing it again
    /// (<see cref="ISegmentStore.PutFrameMadeFromAsync"/>). Never from the bus.
    /// </param>
    public async Task<IngestReply> PutSegmentAsync(PutSegment m, CancellationToken ct, ReadOnlyMemory<byte>? madeFrom = null)
    {
        var problem = Invalid(m.SetId) ?? (m.Sequence < 0 ? "sequence must be 0 or more" : null)
            ?? (!SegmentHash.TryParse(m.Sha256, out _) ? "sha256 must be 64 hex digits" : null)
            ?? (m.Length < 0 ? "length must be 0 or more" : null)
            ?? (m.Data is null ? "data is missing" : null)
            ?? (m.Encoding is not ("zstd" or "identity") ? "encoding must be \"zstd\" or \"identity\"" : null);
        if (problem is not null)
            return SegmentRejected(m, "malformed", $"The segment message is malformed: {problem}.");
        var hash = SegmentHash.Parse(m.Sha256);
        var (state, _) = await _sets.LoadStreamAsync(m.SetId, ct);
        if (state.Status == SetStatus.None)
            return SegmentRejected(m, "unknown-set", $"Set {m.SetId} was never opened; send open-set first.");
        if (state.Status == SetStatus.Sealed)
            return SegmentRejected(m, "set-sealed", $"Set {m.SetId} is sealed; a sealed set never changes. Open a new set.");
        if (m.Length > IngestQueues.MaxSegmentBytes)
            return SegmentRejected(m, "too-large", $"The segment is {m.Length} bytes; the limit is {IngestQueues.MaxSegmentBytes}. Chunk it smaller.");
        if (await _sets.SegmentAsync(m.SetId, m.Sequence, ct) is { } recorded)
            return Recorded(m, recorded, hash);

        SegmentPut put;
        try
        {
            put = m.Encoding == "zstd"
                ? madeFrom is { } plaintext
                    ? plaintext.Length != m.Length
                        ? throw new SegmentRejectedException("length-mismatch", $"The segment was made from {plaintext.Length} bytes, not the declared {m.Length}.")
                        : await store.PutFrameMadeFromAsync(hash, plaintext, m.Data!.Value, ct)
                    : await store.PutCompressedAsync(hash, m.Length, m.Data!.Value, ct)
                : m.Data!.Value.Length != m.Length
                    ? throw new SegmentRejectedException("length-mismatch", $"The segment has {m.Data.Value.Length} bytes, not the declared {m.Length}.")
                    : await store.PutAsync(hash, m.Data.Value, ct);
        }
        catch (SegmentRejectedException ex)
        {
            return SegmentRejected(m, ex.Code, ex.Message);
        }

        var stored = new SegmentStored(m.SetId, m.Sequence, hash.Hex, m.Length, put.StoredBytes, !put.Stored, clock.GetUtcNow(), put.StoredSha256);
        try
        {
            await log.AppendAsync(SetStreams.OfSegment(m.SetId, m.Sequence), ExpectedVersion.NoStream, [EventCodec.Encode(stored, Actor)], ct);
        }
        catch (WrongExpectedVersionException)
        {
            return Recorded(m, (await _sets.SegmentAsync(m.SetId, m.Sequence, ct))!, hash); // a concurrent delivery of the same sequence won
        }

        return Accepted(m, stored);
    }

    public async Task<IngestReply> SealAsync(SealSet m, CancellationToken ct)
    {
        var problem = Invalid(m.SetId) ?? (m.SegmentCount < 0 ? "segmentCount must be 0 or more" : null)
            ?? (!SegmentHash.TryParse(m.ManifestSha256, out _) ? "manifestSha256 must be 64 hex digits" : null)
            ?? (m.Manifest is null || m.ManifestLength < 0 ? "the manifest and its length are required" : null)
            ?? (m.ManifestEncoding is not ("zstd" or "identity") ? "manifestEncoding must be \"zstd\" or \"identity\"" : null)
            ?? (m.ManifestLength > IngestQueues.MaxManifestBytes ? $"the manifest is over {IngestQueues.MaxManifestBytes} bytes" : null);
        if (problem is not null)
            return SetRejected(m.SetId, "malformed", $"The seal message is malformed: {problem}.");
        var (state, version) = await _sets.LoadStreamAsync(m.SetId, ct);
        if (state.Status == SetStatus.None)
            return SetRejected(m.SetId, "unknown-set", $"Set {m.SetId} was never opened.");
        if (state.Status == SetStatus.Sealed)
        {
            return state.Sealed!.ManifestHash == m.ManifestSha256.ToLowerInvariant()
                ? Sealed(state.Sealed)
                : SetRejected(m.SetId, "set-sealed", $"Set {m.SetId} is already sealed with another manifest.");
        }

        var manifestHash = SegmentHash.Parse(m.ManifestSha256);
        Manifest manifest;
        try
        {
            if (m.ManifestEncoding == "zstd")
                await store.PutCompressedAsync(manifestHash, m.ManifestLength, m.Manifest!, ct);
            else
                await store.PutAsync(manifestHash, m.ManifestLength == m.Manifest!.Length ? m.Manifest : throw new SegmentRejectedException("length-mismatch", "The manifest's length is not the declared one."), ct);
            manifest = Manifest.Parse(await store.ReadAsync(manifestHash, ct));
        }
        catch (SegmentRejectedException ex)
        {
            return SetRejected(m.SetId, ex.Code, $"The manifest was refused: {ex.Message}");
        }
        catch (System.Text.Json.JsonException ex)
        {
            return SetRejected(m.SetId, "malformed", $"The manifest is not a vault-manifest/v1 document: {ex.Message}");
        }

        if (manifest.SetId != m.SetId)
            return SetRejected(m.SetId, "malformed", $"The manifest is for set {manifest.SetId}, not {m.SetId}.");
        if (ManifestRules.Problem(manifest) is { } unrestorable)
            return SetRejected(m.SetId, "malformed", $"The manifest could never be restored safely, so the set is not sealed: {unrestorable}.");
        var (_, rules) = await GovernanceReader.ReadAsync(log, ct);
        var files = manifest.Entries.LongCount(e => e.Type is "file" or "stream");
        SetSealed? recorded = null;
        // Under the removals lock: no deletion removes a segment between this check and the seal's record.
        await using (await store.LockRemovalsAsync(ct))
        {
            foreach (var hash in manifest.SegmentHashes.Distinct(StringComparer.Ordinal))
            {
                if (!SegmentHash.TryParse(hash, out var h) || !await store.ContainsAsync(h, ct))
                    return SetRejected(m.SetId, "missing-segments", $"The manifest names segment {hash}, which the vault does not hold; send it, then seal again.");
            }

            var now = clock.GetUtcNow();
            var sealedEvent = new SetSealed(m.SetId, manifestHash.Hex, m.ManifestLength, m.SegmentCount, files, manifest.Entries.Sum(e => e.Size), now + rules.MinimumRetention, now);
            try
            {
                await log.AppendAsync(SetStreams.Of(m.SetId), ExpectedVersion.Exactly(version), [EventCodec.Encode(sealedEvent, Actor)], ct);
                recorded = sealedEvent;
            }
            catch (WrongExpectedVersionException)
            {
                // sealed concurrently by a redelivery: answered below, from what is recorded, once the lock is released
            }
        }

        if (recorded is not { } sealedNow)
            return await SealAsync(m, ct);

        return Sealed(sealedNow);
    }

    public async Task<IngestReply> QueryAsync(QuerySegments m, CancellationToken ct)
    {
        var hashes = m.Hashes ?? [];
        if (hashes.Length > MaxQueryHashes)
            return QueryRejected(m, "too-large", $"The query asks about {hashes.Length} hashes; at most {MaxQueryHashes} are answered per query. Ask in batches.");
        if (Array.FindIndex(hashes, h => !SegmentHash.TryParse(h, out _)) is var index and >= 0)
            return QueryRejected(m, "malformed", $"The query is malformed: hashes[{index}] is not 64 hex digits. Nothing was answered.");
        var present = new List<string>();
        foreach (var text in hashes)
        {
            var hash = SegmentHash.Parse(text);
            if (await store.ContainsAsync(hash, ct))
                present.Add(hash.Hex);
        }

        return new IngestReply { Type = IngestReply.SegmentsPresentType, QueryId = m.QueryId, Present = [.. present] };
    }

    private static IngestReply Recorded(PutSegment m, SegmentStored recorded, SegmentHash hash) =>
        recorded.Hash == hash.Hex
            ? Accepted(m, recorded)
            : SegmentRejected(m, "sequence-conflict", $"Sequence {m.Sequence} of set {m.SetId} was already accepted with other content ({recorded.Hash}); nothing was changed.");

    private static IngestReply Accepted(PutSegment m, SegmentStored s) => new()
    {
        Type = IngestReply.SegmentAcceptedType, SetId = m.SetId, Sequence = m.Sequence, Sha256 = s.Hash, Deduplicated = s.Deduplicated, StoredBytes = s.StoredBytes,
    };

    private static IngestReply SegmentRejected(PutSegment m, string code, string reason) => new()
    {
        Type = IngestReply.SegmentRejectedType, SetId = m.SetId, Sequence = m.Sequence, Sha256 = m.Sha256, Code = code, Reason = reason,
    };

    /// <summary>The most hashes one query may ask about (docs/wire-format.md); the .NET client asks 5,000 at a time.</summary>
    public const int MaxQueryHashes = 10_000;

    private static IngestReply QueryRejected(QuerySegments m, string code, string reason) => new() { Type = IngestReply.QueryRejectedType, QueryId = m.QueryId, Code = code, Reason = reason };

    private static IngestReply SetRejected(string setId, string code, string reason) => new() { Type = IngestReply.SetRejectedType, SetId = setId, Code = code, Reason = reason };

    private static IngestReply Sealed(SetSealed s) => new() { Type = IngestReply.SetSealedType, SetId = s.SetId, Sha256 = s.ManifestHash };

    private static string? Invalid(string setId, string? source = "x", string? name = "x") =>
        !SetId().IsMatch(setId ?? "") ? "setId must be 1 to 128 lower-case letters, digits, '.', '_' or '-'"
        : string.IsNullOrWhiteSpace(source) ? "source is required"
        : string.IsNullOrWhiteSpace(name) ? "name is required"
        : null;

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,127}$")]
    private static partial Regex SetId();
}
