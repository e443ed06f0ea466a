using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Rotation.Service;
using Rotation.Service.Custodians;
using Vault.Core.Checkpoints;

namespace Rotation.Custodian;

/// <summary>A request the custodian refuses: the HTTP status, a code (docs/sites.md) and one sentence.</summary>
public sealed class CustodianRefusal(int status, string code, string reason) : Exception(reason)
{
    public int Status { get; } = status;
    public string Code { get; } = code;
}

/// <summary>
/// What a site custodian keeps in its root, and the rules it keeps it by, on its own clock:
/// images are written once (received into incoming/, hashed while they arrive, checked against their facts and their
/// own header, then renamed into images/ and made read-only); an image leaves only after its retain-until, whoever
/// asks; retention can be extended, never shortened; every checkpoint received is kept, and one that contradicts a
/// kept one (same count, other head) is refused as a fork; the first vault to deposit is pinned and any other refused.
/// Everything asked, accepted or refused goes to the journal.
/// </summary>
public sealed class CustodianStore : IDisposable
{
    public const int MaxTransitDays = 60;
    private const long FlushEvery = 32L << 20;
    private const string PinFile = "pin.json";

    private readonly string _root;
    private readonly TimeProvider _clock;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly FileStream _lock;

    public CustodianConfig Config { get; }
    public CustodianJournal Journal { get; }
    public CustodianLogCopy LogCopy { get; }
    public string Site => Config.Site;
    public string RootDirectory => _root;

    private string Images => Path.Combine(_root, "images");
    private string Incoming => Path.Combine(_root, "incoming");
    private string Released => Path.Combine(_root, "released");
    private string CheckpointDir => Path.Combine(_root, "checkpoints");

    public DateOnly Today => DateOnly.FromDateTime(_clock.GetUtcNow().UtcDateTime);

    private CustodianStore(string root, TimeProvider clock, CustodianConfig config, CustodianJournal journal, CustodianLogCopy logCopy, FileStream lockFile)
    {
        LogCopy = logCopy;
        _root = root;
        _clock = clock;
        Config = config;
        Journal = journal;
        _lock = lockFile;
    }

    /// <summary>Opens a custodian root for one process (a second on the same root is refused), and clears what a crash left half-received.</summary>
    public static CustodianStore Open(string root, TimeProvider clock)
    {
        var config = CustodianConfig.Load(root);
        FileStream lockFile;
        try
        {
            lockFile = new FileStream(Path.Combine(root, "custodian.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new Vault.Core.Errors.StorageRefusedException($"Another custodian process keeps {root}; run one per root.", ex);
        }

        try
        {
            var store = new CustodianStore(root, clock, config, CustodianJournal.Open(root), CustodianLogCopy.Open(root), lockFile);
            store.Recover();
            return store;
        }
        catch
        {
            lockFile.Dispose();
            throw;
        }
    }

    private void Recover()
    {
        foreach (var dir in new[] { Images, Incoming, Released, CheckpointDir })
            Directory.CreateDirectory(dir);
        foreach (var partial in Directory.EnumerateFiles(Incoming))
        {
            File.Delete(partial);
            Journal.Append(_clock.GetUtcNow(), "custodian", "recover", "removed", reason: $"a deposit cut short left {Path.GetFileName(partial)}; it was never accepted");
        }

        foreach (var image in Directory.EnumerateFiles(Images, "*" + SiteLayout.Extension))
        {
            if (!File.Exists(Path.ChangeExtension(image, ".json")))
            {
                File.Delete(image);
                Journal.Append(_clock.GetUtcNow(), "custodian", "recover", "removed", label: Path.GetFileNameWithoutExtension(image), reason: "an image renamed into place without its facts (a crash before the deposit was answered); it was never accepted");
            }
        }
    }

    public IReadOnlyList<CustodyEntry> List()
    {
        var today = Today;
        return [.. Directory.EnumerateFiles(Images, "*.json").Order(StringComparer.Ordinal)
            .Select(path => JsonSerializer.Deserialize<ImageFacts>(File.ReadAllBytes(path), CustodianProtocol.Json)!)
            .Select(f => new CustodyEntry(f, f.StatusOn(today), today))];
    }

    public CustodyEntry Facts(string label)
    {
        var facts = Find(CheckName(label, "label")) ?? throw new CustodianRefusal(404, CustodianProtocol.Codes.NotFound, $"This custodian holds no image {label}.");
        return new CustodyEntry(facts, facts.StatusOn(Today), Today);
    }

    /// <summary>The image to read back (served in transit too: a restore in an emergency does not wait for the courier's paperwork).</summary>
    public (ImageFacts Facts, FileStream Image) Read(string label, string actor)
    {
        var entry = Facts(label);
        var image = new FileStream(ImagePath(label), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        Journal.Append(_clock.GetUtcNow(), actor, "read", "served", label, entry.Facts.WriteId, entry.Facts.Sha256);
        return (entry.Facts, image);
    }

    /// <summary>Receives an image: streamed to incoming/, hashed as it comes, checked, then committed write-once.</summary>
    public async Task<ImageFacts> DepositAsync(string label, string? writeId, string? sha256, long? size, string? retainUntil, string? arrivesOn, string actor, Stream body, CancellationToken ct)
    {
        label = CheckName(label, "label");
        var today = Today;
        string Bad(string what) => throw Refuse(400, CustodianProtocol.Codes.Malformed, actor, "deposit", label, writeId, what);
        if (!CustodianProtocol.IsName(writeId, 64))
            Bad($"the write id is missing or not letters, digits and '-' (header {CustodianProtocol.WriteIdHeader})");
        if (!CustodianProtocol.IsSha256(sha256))
            Bad($"the SHA-256 is missing or not 64 lower-case hex digits (header {CustodianProtocol.Sha256Header})");
        if (size is not > 0)
            Bad("the size is missing (Content-Length) or zero");
        if (!TryDay(retainUntil, out var retain) || retain < today)
            Bad($"retain-until is missing, not yyyy-MM-dd, or before today ({today:yyyy-MM-dd}) by this custodian's clock (header {CustodianProtocol.RetainUntilHeader})");
        if (!TryDay(arrivesOn, out var arrives) || arrives > today.AddDays(MaxTransitDays))
            Bad($"the arrival date is missing, not yyyy-MM-dd, or more than {MaxTransitDays} days on (header {CustodianProtocol.ArrivesOnHeader})");
        if (arrives < today)
            arrives = today; // a date already past by this custodian's clock: delivered at once
        if (Find(label) is { } held)
            return Same(held, writeId!, sha256!) ? held : throw Existing(held, writeId!, actor, label);

        var partial = Path.Combine(Incoming, $"{label}.{writeId}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}.partial");
        try
        {
            long received = 0;
            string actual;
            using (var output = File.OpenHandle(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.Asynchronous))
            {
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
                // Written data goes to disk while the rest arrives: a flush every FlushEvery bytes runs beside the
                // receiving (a final fsync of a whole image would otherwise wait for all of it at once).
                var flushing = Task.CompletedTask;
                long flushedAt = 0;
                try
                {
                    int n;
                    while ((n = await body.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, ct)) > 0)
                    {
                        if (received + n > size)
                            Bad($"more than the {size} bytes announced arrived");
                        hash.AppendData(buffer, 0, n);
                        await RandomAccess.WriteAsync(output, buffer.AsMemory(0, n), received, ct);
                        received += n;
                        if (received - flushedAt >= FlushEvery && flushing.IsCompleted)
                        {
                            await flushing;
                            flushedAt = received;
                            flushing = Task.Run(() => RandomAccess.FlushToDisk(output), CancellationToken.None);
                        }
                    }
                }
                finally
                {
                    await flushing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                }

                if (received != size)
                    Bad($"{received} bytes arrived of the {size} announced; the deposit was cut short");
                actual = Convert.ToHexStringLower(hash.GetHashAndReset());
                RandomAccess.FlushToDisk(output);
            }

            if (actual != sha256)
                throw Refuse(400, CustodianProtocol.Codes.Mismatch, actor, "deposit", label, writeId, $"the image received has SHA-256 {actual}, not the {sha256} it was deposited with: damaged or swapped on the way");
            var header = TapeHeader.ReadFrom(partial);
            if (header is null || header.Label != label || header.WriteId != writeId)
                throw Refuse(400, CustodianProtocol.Codes.Mismatch, actor, "deposit", label, writeId,
                    header is null ? "the image has no readable tape header" : $"the image's own header says {header.Label} write {header.WriteId}, not {label} write {writeId}");
            if (header.Checkpoint is not { } checkpoint)
                throw Refuse(400, CustodianProtocol.Codes.Malformed, actor, "deposit", label, writeId, "the image carries no checkpoint; a custodian accepts only images written under one");

            await _gate.WaitAsync(ct);
            try
            {
                AcceptCheckpointLocked(checkpoint, actor, fromImage: true);
                if (Find(label) is { } raced)
                    return Same(raced, writeId!, actual) ? raced : throw Existing(raced, writeId!, actor, label);
                var facts = new ImageFacts(label, writeId!, actual, received, retain, arrives, _clock.GetUtcNow(), actor, checkpoint.VaultId, checkpoint.Checkpoint.Count);
                File.Move(partial, ImagePath(label));
                if (!OperatingSystem.IsWindows())
                    File.SetUnixFileMode(ImagePath(label), UnixFileMode.UserRead | UnixFileMode.GroupRead);
                WriteFacts(facts);
                Journal.Append(_clock.GetUtcNow(), actor, "deposit", "accepted", label, writeId, actual,
                    $"{received} bytes, kept until {retain:yyyy-MM-dd}, in transit until {arrives:yyyy-MM-dd}");
                return facts;
            }
            finally
            {
                _gate.Release();
            }
        }
        finally
        {
            File.Delete(partial);
        }
    }

    /// <summary>The same deposit again (a retry after a lost answer): nothing to do, and the answer is the same.</summary>
    private static bool Same(ImageFacts held, string writeId, string sha256) => held.WriteId == writeId && held.Sha256 == sha256;

    private CustodianRefusal Existing(ImageFacts held, string writeId, string actor, string label) =>
        Refuse(409, CustodianProtocol.Codes.Exists, actor, "deposit", label, writeId,
                $"this custodian already holds {label} (write {held.WriteId}, SHA-256 {held.Sha256}) until {held.RetainUntil:yyyy-MM-dd}; images are written once and never overwritten");

    /// <summary>
    /// Gives an image back to the vault (it leaves the custodian and is erased here); refused before its retain-until,
    /// whoever asks, unless <paramref name="requestId"/> names a signed rotation request to bring it back that this
    /// custodian proves itself from its log copy, by its own clock (<see cref="CustodianRelease"/>), once.
    /// </summary>
    public async Task<ImageFacts> ReturnAsync(string label, string actor, CancellationToken ct, string? requestId = null)
    {
        label = CheckName(label, "label");
        await _gate.WaitAsync(ct);
        try
        {
            var facts = Find(label) ?? throw Refuse(404, CustodianProtocol.Codes.NotFound, actor, "return", label, null, $"this custodian holds no image {label}");
            var why = $"retention ended {facts.RetainUntil:yyyy-MM-dd}";
            if (facts.RetainedOn(Today))
            {
                if (requestId is null)
                    throw Refuse(423, CustodianProtocol.Codes.Retained, actor, "return", label, facts.WriteId,
                        $"{label} is kept until {facts.RetainUntil:yyyy-MM-dd} by this custodian's clock (today {Today:yyyy-MM-dd}); no credential can take it back or erase it before then, only a rotation request signed by the quorum ('?request=ID')");
                var pin = File.Exists(Path.Combine(_root, PinFile)) ? JsonSerializer.Deserialize<VaultPin>(File.ReadAllBytes(Path.Combine(_root, PinFile))) : null;
                IReadOnlyList<string> signers;
                try
                {
                    if (pin is null)
                        throw new CustodianRefusal(423, CustodianProtocol.Codes.Retained, "this custodian has pinned no vault yet, so it knows no approvers");
                    signers = await CustodianRelease.ProveAsync(LogCopy, pin.VaultId, pin.GenesisHash, requestId, label, UsedRequests(), _clock.GetUtcNow(), ct);
                }
                catch (CustodianRefusal refusal)
                {
                    throw Refuse(refusal.Status, refusal.Code, actor, "return", label, facts.WriteId,
                        $"{label} is kept until {facts.RetainUntil:yyyy-MM-dd} and was not released early: {refusal.Message}");
                }
                catch (FormatException ex)
                {
                    throw Refuse(423, CustodianProtocol.Codes.Retained, actor, "return", label, facts.WriteId, $"{label} was not released early: this custodian's log copy cannot be read ({ex.Message})");
                }

                File.AppendAllText(UsedRequestsPath, requestId + "\n");
                why = $"released early, before {facts.RetainUntil:yyyy-MM-dd}, by request {requestId} signed by {string.Join(", ", signers)} (proved here)";
            }

            var released = Path.Combine(Released, $"{label}.{facts.WriteId}.json");
            File.Move(Path.ChangeExtension(ImagePath(label), ".json"), released, overwrite: true);
            File.Delete(ImagePath(label));
            Journal.Append(_clock.GetUtcNow(), actor, "return", "released", label, facts.WriteId, facts.Sha256, why);
            return facts;
        }
        finally
        {
            _gate.Release();
        }
    }

    private string UsedRequestsPath => Path.Combine(Released, "requests.txt");

    /// <summary>The requests that have released an image early here (each releases once).</summary>
    private HashSet<string> UsedRequests() =>
        File.Exists(UsedRequestsPath) ? File.ReadLines(UsedRequestsPath).Where(l => l.Length > 0).ToHashSet(StringComparer.Ordinal) : [];

    /// <summary>Extends an image's retention; a shorter one is refused (compliance mode: retention only grows).</summary>
    public async Task<ImageFacts> ExtendAsync(string label, string? until, string actor, CancellationToken ct)
    {
        label = CheckName(label, "label");
        if (!TryDay(until, out var date))
            throw Refuse(400, CustodianProtocol.Codes.Malformed, actor, "extend", label, null, "the new retain-until is missing or not yyyy-MM-dd");
        await _gate.WaitAsync(ct);
        try
        {
            var facts = Find(label) ?? throw Refuse(404, CustodianProtocol.Codes.NotFound, actor, "extend", label, null, $"this custodian holds no image {label}");
            if (date < facts.RetainUntil)
                throw Refuse(423, CustodianProtocol.Codes.Retained, actor, "extend", label, facts.WriteId,
                    $"{label} is kept until {facts.RetainUntil:yyyy-MM-dd}; retention can be extended, never shortened");
            if (date == facts.RetainUntil)
                return facts;
            var extended = facts with { RetainUntil = date };
            WriteFacts(extended);
            Journal.Append(_clock.GetUtcNow(), actor, "extend", "accepted", label, facts.WriteId, facts.Sha256, $"kept until {date:yyyy-MM-dd} (was {facts.RetainUntil:yyyy-MM-dd})");
            return extended;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Adds records to the log copy (all or none), journaled either way.</summary>
    public async Task<long> AppendLogAsync(Stream body, long from, string actor, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var added = await LogCopy.AppendAsync(body, from, ct);
            if (added > 0)
                Journal.Append(_clock.GetUtcNow(), actor, "log", "accepted", reason: $"records {from} to {LogCopy.Count}, head {Convert.ToHexStringLower(LogCopy.Head)}");
            return added;
        }
        catch (CustodianRefusal refusal)
        {
            Journal.Append(_clock.GetUtcNow(), actor, "log", "refused", reason: refusal.Message);
            throw;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task AcceptCheckpointAsync(CheckpointCopy copy, string actor, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            AcceptCheckpointLocked(copy, actor, fromImage: false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The checkpoint with the highest count received, or null.</summary>
    public CheckpointCopy? LatestCheckpoint()
    {
        var latest = Directory.EnumerateFiles(CheckpointDir, "*.json").Order(StringComparer.Ordinal).LastOrDefault();
        return latest is null ? null : JsonSerializer.Deserialize<CheckpointCopy>(File.ReadAllBytes(latest));
    }

    /// <summary>
    /// A checkpoint is kept only when the log copy kept here covers it and agrees with it: the log comes first, so a
    /// checkpoint over a rewritten log (which cannot extend the copy) is never kept. One in an image's header that
    /// the copy does not cover yet is checked (signature, vault) but not kept; the checkpoint deposit that follows is.
    /// </summary>
    private void AcceptCheckpointLocked(CheckpointCopy copy, string actor, bool fromImage)
    {
        if (copy is not { Format: CheckpointCopy.CurrentFormat, Checkpoint: not null } || !copy.IsSignedByItsGenesis())
            throw Refuse(400, CustodianProtocol.Codes.Malformed, actor, "checkpoint", null, null, "the checkpoint is not signed by the checkpoint key of the genesis it names: forged or damaged");
        var pinPath = Path.Combine(_root, PinFile);
        var pin = new VaultPin(copy.VaultId, copy.GenesisHash, copy.GenesisPayload);
        if (!File.Exists(pinPath))
        {
            File.WriteAllText(pinPath, JsonSerializer.Serialize(pin) + "\n");
            Journal.Append(_clock.GetUtcNow(), actor, "pin", "accepted", reason: $"vault {copy.VaultId}, genesis {copy.GenesisHash}: from now on only this vault's checkpoints and images are accepted");
        }
        else if (JsonSerializer.Deserialize<VaultPin>(File.ReadAllBytes(pinPath)) != pin)
        {
            throw Refuse(409, CustodianProtocol.Codes.Foreign, actor, "checkpoint", null, null,
                $"this custodian keeps vault {JsonSerializer.Deserialize<VaultPin>(File.ReadAllBytes(pinPath))!.VaultId} from its genesis; a checkpoint of vault {copy.VaultId} or of another genesis is refused");
        }

        if (copy.Checkpoint.Position > LogCopy.Count)
        {
            if (fromImage)
                return;
            throw Refuse(409, CustodianProtocol.Codes.LogGap, actor, "checkpoint", null, null,
                $"the checkpoint covers {copy.Checkpoint.Position} records and the log copy kept here {LogCopy.Count}; send the log up to {copy.Checkpoint.Position} first (a log that was rewritten cannot be sent)");
        }

        if (copy.Checkpoint.Position >= 1
            && !LogCopy.HashAt(copy.Checkpoint.Position).SequenceEqual(Convert.FromHexString(copy.Checkpoint.Head)))
        {
            throw Refuse(409, CustodianProtocol.Codes.Fork, actor, "checkpoint", null, null,
                $"the log copy kept here has head {Convert.ToHexStringLower(LogCopy.HashAt(copy.Checkpoint.Position))} at position {copy.Checkpoint.Position}, and this checkpoint says {copy.Checkpoint.Head}: the log was rewritten");
        }

        var path = Path.Combine(CheckpointDir, $"{copy.Checkpoint.Count:D15}.json");
        if (File.Exists(path))
        {
            var kept = JsonSerializer.Deserialize<CheckpointCopy>(File.ReadAllBytes(path))!;
            if (kept.Checkpoint.Head == copy.Checkpoint.Head && kept.Checkpoint.MerkleRoot == copy.Checkpoint.MerkleRoot)
                return;
            throw Refuse(409, CustodianProtocol.Codes.Fork, actor, "checkpoint", null, null,
                $"a checkpoint at {copy.Checkpoint.Count} records with head {kept.Checkpoint.Head} is kept here, and this one says {copy.Checkpoint.Head}: the log was rewritten");
        }

        File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(copy, Vault.Services.Checkpointer.CopyJson) + "\n");
        File.Move(path + ".tmp", path);
        Journal.Append(_clock.GetUtcNow(), actor, "checkpoint", "accepted", reason: $"{copy.Checkpoint.Count} records, head {copy.Checkpoint.Head}");
    }

    private sealed record VaultPin(string VaultId, string GenesisHash, string GenesisPayload);

    private CustodianRefusal Refuse(int status, string code, string actor, string action, string? label, string? writeId, string reason)
    {
        Journal.Append(_clock.GetUtcNow(), actor, action, "refused", label, writeId, reason: reason);
        return new CustodianRefusal(status, code, reason);
    }

    /// <summary>Records a request whose connection closed before it was complete (nothing was accepted).</summary>
    public void RecordAborted(string actor, string action) =>
        Journal.Append(_clock.GetUtcNow(), actor, action, "aborted", reason: "the connection closed before the request was complete; nothing was accepted");

    /// <summary>Records a request refused before it reached the store (an unknown credential).</summary>
    public void RecordUnauthorized(string action, string? remote) =>
        Journal.Append(_clock.GetUtcNow(), remote ?? "unknown", action, "refused", reason: "no valid credential");

    private string ImagePath(string label) => Path.Combine(Images, label + SiteLayout.Extension);

    private ImageFacts? Find(string label)
    {
        var path = Path.ChangeExtension(ImagePath(label), ".json");
        return File.Exists(path) ? JsonSerializer.Deserialize<ImageFacts>(File.ReadAllBytes(path), CustodianProtocol.Json) : null;
    }

    private void WriteFacts(ImageFacts facts)
    {
        var path = Path.ChangeExtension(ImagePath(facts.Label), ".json");
        using (var file = new FileStream(path + ".tmp", FileMode.Create, FileAccess.Write))
        {
            JsonSerializer.Serialize(file, facts, CustodianProtocol.Json);
            file.Flush(flushToDisk: true);
        }

        File.Move(path + ".tmp", path, overwrite: true);
    }

    /// <summary>A day as the protocol writes it (yyyy-MM-dd), nothing else.</summary>
    private static bool TryDay(string? text, out DateOnly day) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day);

    private static string CheckName(string label, string what) =>
        CustodianProtocol.IsName(label, 32) ? label : throw new CustodianRefusal(400, CustodianProtocol.Codes.Malformed, $"the {what} is not letters, digits and '-' (at most 32)");

    public void Dispose()
    {
        _lock.Dispose();
        _gate.Dispose();
    }
}
