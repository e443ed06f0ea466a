using System.Text.RegularExpressions;
using Vault.Core.Checkpoints;
using Vault.Core.Governance;
using Vault.Core.Log;
using Vault.Core.Sets;
using Vault.Core.Vaults;
using Vault.Storage.Log;

namespace Vault.Services;

/// <summary>A head known from outside the log: a checkpoint copy at a site, in a tape image, in a file, or given by hand.</summary>
/// <param name="Source">Where it came from, for the message ("site offsite-a (/mnt/a/checkpoint.json)").</param>
/// <param name="MerkleRoot">The Merkle root it names over records 1..Position, when it names one.</param>
/// <param name="GenesisHash">The genesis hash it descends from, when it names one.</param>
/// <param name="Rule">The rule a disagreement breaks: "copy" for copies from outside, "checkpoint" for the log's own checkpoint records.</param>
public sealed record HeadClaim(string Source, long Position, string Head, string? MerkleRoot = null, string? GenesisHash = null, string Rule = "copy");

/// <summary>
/// Verification of meaning (vault log verify): replays every record that passed the chain checks through the same
/// deciders that made it, and names, by position, each record the rules would not have produced — a signature that
/// does not verify, a quorum without M valid signatures, an execution before its delay or of a held or retained set,
/// a governance change or hold release without its request's proof, a derived record that disagrees with its evidence,
/// a stream-version gap, a malformed stream id or payload, a checkpoint that does not match the records it covers —
/// and every head known from outside (checkpoint copies, witnessed heads inside signatures) that the log does not hold.
/// It never throws on what it checks: whatever does not parse is itself a finding.
/// </summary>
public sealed partial class HistoryVerifier(IReadOnlySet<string> otherKnownTypes, IReadOnlyList<HeadClaim> claims) : IRecordObserver
{
    private const int MaxFindings = 1000;
    private readonly List<ProofFinding> _findings = [];
    private readonly Dictionary<string, long> _versions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RequestProof> _requests = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SetInfo> _sets = new(StringComparer.Ordinal);
    private readonly List<HeadClaim> _claims = [.. claims];
    private byte[] _hashes = new byte[32 * 4096];
    private readonly MerkleTree _tree = new();
    private readonly Dictionary<long, string> _rootsAt = [];
    private readonly HashSet<long> _wanted = [.. claims.Where(c => c.MerkleRoot is not null).Select(c => c.Position)];
    private long _count;
    private GovernanceState? _governance;
    private string? _genesisHash;

    public IReadOnlyList<ProofFinding> Findings => _findings;

    /// <summary>How many findings there were (the list keeps the first <see cref="MaxFindings"/>).</summary>
    public long FindingCount { get; private set; }

    public string? VaultId => _governance?.VaultId;

    private sealed class SetInfo
    {
        /// <summary>The sequences recorded for this set: a segment stream holds exactly one record.</summary>
        public readonly SequenceSet Sequences = new();
        public SetStatus Status;
        public DateTimeOffset RetainUntil;
        public readonly HashSet<string> Holds = new(StringComparer.Ordinal);
    }

    /// <summary>What a reader made of one record: its event or the problem with it; a SegmentStored only as its set and sequence.</summary>
    /// <summary>
    /// The sequences seen for one set: a bit per sequence for the dense range a set uses (0, 1, 2, … in any order),
    /// a hash set only beyond it. A million segments cost 125 KB of bits, not 40 MB of hash-set entries the
    /// collector would have to carry through every generation.
    /// </summary>
    private sealed class SequenceSet
    {
        private const long DenseLimit = 1 << 24;
        private ulong[] _bits = new ulong[4];
        private HashSet<long>? _sparse;

        public bool Add(long sequence)
        {
            if (sequence is < 0 or >= DenseLimit)
                return (_sparse ??= []).Add(sequence);
            var word = (int)(sequence >> 6);
            if (word >= _bits.Length)
                Array.Resize(ref _bits, Math.Max(word + 1, _bits.Length * 2));
            var mask = 1UL << (int)(sequence & 63);
            if ((_bits[word] & mask) != 0)
                return false;
            _bits[word] |= mask;
            return true;
        }
    }

    private readonly record struct Prepared(object? Event, string? Problem, string? SetId = null, long Sequence = 0);

    private readonly System.Collections.Concurrent.ConcurrentQueue<Collected> _free = new();

    public IRecordCollector Collect(int capacity) =>
        _free.TryDequeue(out var reused) && reused.Capacity >= capacity ? reused.Reset() : new Collected(this, Math.Max(capacity, LogVerifier.BlockSize));

    public void Release(IRecordCollector block) => _free.Enqueue((Collected)block);

    /// <summary>
    /// One block as its reader prepared it: each record's position, stream version, hash, Merkle leaf and what it
    /// means. A SegmentStored record (95% of a log) is judged from the store's buffers and never built; any other
    /// record, and any segment record the quick reading does not accept, is built and decoded in full.
    /// </summary>
    private sealed class Collected(HistoryVerifier owner, int capacity) : IRecordCollector
    {
        private const int H = MerkleTree.HashSize;
        public readonly Prepared[] Items = new Prepared[capacity];
        public readonly EventRecord?[] Records = new EventRecord?[capacity];
        public readonly long[] Positions = new long[capacity];
        public readonly long[] Versions = new long[capacity];
        public readonly byte[] Hashes = new byte[capacity * H];
        public readonly byte[] Leaves = new byte[capacity * H];
        private readonly SetIdCache _setIds = new();
        private int _count;

        public int Capacity => Positions.Length;

        public Collected Reset()
        {
            Array.Clear(Records, 0, _count);
            Array.Clear(Items, 0, _count);
            _count = 0;
            return this;
        }

        public void Visit(in StoredRecord record)
        {
            var i = Next(record.Position, record.StreamVersion, record.Hash);
            if (i < 0)
                return;
            if (record.EventType.SequenceEqual(SegmentStoredType) && SegmentReading.TryRead(record.StreamId, record.Payload, _setIds, out var setId, out var sequence, out _))
            {
                Items[i] = new Prepared(null, null, setId, sequence);
                return;
            }

            var full = record.ToRecord();
            Records[i] = full;
            Items[i] = owner.PrepareOne(full);
        }

        public void Add(EventRecord record)
        {
            var i = Next(record.Position, record.StreamVersion, record.Hash);
            if (i < 0)
                return;
            Records[i] = record;
            Items[i] = owner.PrepareOne(record);
        }

        private int Next(long position, long version, ReadOnlySpan<byte> hash)
        {
            if (_count == Positions.Length)
                return -1;
            var i = _count++;
            Positions[i] = position;
            Versions[i] = version;
            if (hash.Length == H)
            {
                hash.CopyTo(Hashes.AsSpan(i * H, H));
                MerkleTree.LeafHash(hash, Leaves.AsSpan(i * H, H));
            }

            return i;
        }
    }

    private static ReadOnlySpan<byte> SegmentStoredType => "SegmentStored.v1"u8;

    private Prepared PrepareOne(EventRecord record)
    {
        if (StreamProblem(record.StreamId) is { } bad)
            return new Prepared(null, bad);
        if (record.EventType == VaultCreated.EventType)
        {
            try
            {
                return VaultCreated.From(record) is { } genesis ? new Prepared(genesis, null) : new Prepared(null, "the genesis payload is empty");
            }
            catch (Exception ex) when (ex is System.Text.Json.JsonException or NotSupportedException or ArgumentException)
            {
                return new Prepared(null, $"the genesis payload does not parse ({ex.Message})");
            }
        }

        if (record.EventType == SegmentStored.EventType)
            return PrepareSegment(record);
        if (!EventCodec.IsKnown(record.EventType))
            return otherKnownTypes.Contains(record.EventType) ? new Prepared(null, null) : new Prepared(null, $"'{record.EventType}' is not an event type of this vault");
        var (e, problem) = EventCodec.TryDecode(record);
        if (problem is not null)
            return new Prepared(null, $"the {record.EventType} payload does not parse ({problem})");
        return new Prepared(e, BindingProblem(record.StreamId, e!));
    }

    public void Observe(IRecordCollector block, int index)
    {
        var c = (Collected)block;
        var position = c.Positions[index];
        Remember(position, c.Hashes.AsSpan(index * MerkleTree.HashSize, MerkleTree.HashSize));
        var prepared = c.Items[index];
        if (prepared.SetId is { } setId)
            ObserveSegment(position, c.Versions[index], setId, prepared.Sequence);
        else
            ObserveRecord(c.Records[index]!, prepared);
        // The record's leaf joins the tree after it was judged: a checkpoint at position Q covering Q-1 finds the tree at Q-1.
        _tree.AppendLeafHash(c.Leaves.AsSpan(index * MerkleTree.HashSize, MerkleTree.HashSize));
        if (_wanted.Contains(_tree.Size))
            _rootsAt[_tree.Size] = Convert.ToHexStringLower(_tree.Root());
    }

    private void ObserveRecord(EventRecord record, Prepared prepared)
    {
        var (e, problem, _, _) = prepared;
        CheckVersion(record);
        if (problem is not null)
        {
            Find(record.Position, "malformed", problem);
            return;
        }

        if (record.Position == 1)
        {
            if (e is not VaultCreated genesis || record.StreamId != VaultStreams.Vault)
            {
                Find(1, "genesis", "the first record is not the vault's genesis (VaultCreated.v1 on stream 'vault')");
                return;
            }

            try
            {
                var rules = genesis.Governance.ToRules();
                _governance = new GovernanceState(genesis.VaultId, rules, 0, []) { Eras = [new GovernanceEra(1, rules, 0)], CheckpointKey = genesis.CheckpointKey };
                _genesisHash = Convert.ToHexStringLower(record.Hash);
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException or NullReferenceException)
            {
                Find(1, "genesis", $"the genesis rules do not validate ({ex.Message})");
            }

            return;
        }

        if (_governance is null)
            return; // without a genesis nothing can be judged; the finding at position 1 says so
        if (e is VaultCreated)
        {
            Find(record.Position, "genesis", "a second genesis record");
            return;
        }

        if (e is ISignedEvent signed)
            CheckWitness(record.Position, signed);
        switch (e)
        {
            case IRequestEvent d:
                ObserveRequest(record.Position, d);
                break;
            case GovernanceChanged change:
                ObserveChange(record, change);
                break;
            case CheckpointRecorded checkpoint:
                ObserveCheckpoint(record.Position, checkpoint);
                break;
            case null:
                break;
            default:
                ObserveSet(record.Position, e);
                break;
        }
    }

    /// <summary>After the last record: the heads known from outside, against what the log holds.</summary>
    public void Finish(LogHead head)
    {
        var tree = new MerkleTree(); // only for a root the pass did not record (a checkpoint that covered less than its predecessors)
        foreach (var claim in _claims.OrderBy(c => c.Position))
        {
            if (claim.GenesisHash is { } genesis && _genesisHash is { } ours && genesis != ours)
            {
                Find(1, "copy", $"{claim.Source} descends from genesis {genesis}, but this log begins with {ours}: the log was rebuilt from its first record");
                continue;
            }

            if (claim.Position > head.Position || claim.Position < 1)
            {
                Find(head.Position + 1, claim.Rule, $"{claim.Source} holds a head at position {claim.Position}, but the log ends at {head.Position}: records were cut from the end");
                continue;
            }

            var hash = Convert.ToHexStringLower(HashAt(claim.Position));
            if (hash != claim.Head)
            {
                Find(claim.Position, claim.Rule, $"{claim.Source} says record {claim.Position} has hash {claim.Head}, but the log has {hash}: history up to there was rewritten");
                continue;
            }

            if (claim.MerkleRoot is { } root)
            {
                if (!_rootsAt.TryGetValue(claim.Position, out var actual))
                {
                    if (tree.Size > claim.Position)
                        tree = new MerkleTree();
                    while (tree.Size < claim.Position)
                        tree.Append(HashAt(tree.Size + 1));
                    actual = Convert.ToHexStringLower(tree.Root());
                }

                if (actual != root)
                    Find(claim.Position, "checkpoint", $"{claim.Source} names Merkle root {root} over records 1 to {claim.Position}, but they give {actual}");
            }
        }
    }

    private void ObserveRequest(long position, IRequestEvent d)
    {
        if (!_requests.TryGetValue(d.RequestId, out var proof))
            _requests[d.RequestId] = proof = new RequestProof();
        var before = proof.Findings.Count;
        var wasExecuted = proof.Execution is not null;
        proof.Apply(position, d, _governance!.ContextAt(position, d.At), Protections());
        foreach (var finding in proof.Findings.Skip(before))
            Find(finding.Position, finding.Rule, finding.Detail);
        if (!wasExecuted && proof.Execution is { } done && proof.State.Kind == RequestKind.Delete)
        {
            foreach (var target in done.Targets)
            {
                if (_sets.TryGetValue(target, out var set))
                    set.Status = SetStatus.Deleted;
            }
        }
    }

    private void ObserveChange(EventRecord record, GovernanceChanged change)
    {
        var context = _governance!.ContextAt(record.Position, change.At);
        var problem = _requests.TryGetValue(change.RequestId, out var proof)
            ? GovernanceReader.Problem(proof.State, change, context)
            : $"there is no request {change.RequestId}";
        if (problem is not null)
        {
            Find(record.Position, "governance", $"a governance change without its quorum: {problem}");
            return;
        }

        try
        {
            var rules = change.Governance.ToRules();
            _governance = _governance with
            {
                Rules = rules, Version = record.StreamVersion, Changes = [.. _governance.Changes, (record.Position, change)],
                Eras = [.. _governance.Eras, new GovernanceEra(record.Position, rules, record.StreamVersion)],
            };
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or NullReferenceException)
        {
            Find(record.Position, "governance", $"the new rules do not validate ({ex.Message})");
        }
    }

    private void ObserveCheckpoint(long position, CheckpointRecorded checkpoint)
    {
        if (_governance!.CheckpointKey is not { } key)
        {
            Find(position, "checkpoint", "a checkpoint in a vault whose genesis names no checkpoint key");
            return;
        }

        if (!checkpoint.SignatureHolds(_governance.VaultId, key))
            Find(position, "checkpoint", $"the checkpoint of position {checkpoint.Position} is not signed by the vault's checkpoint key");
        else if (checkpoint.Position >= position || checkpoint.Count != checkpoint.Position)
            Find(position, "checkpoint", $"the checkpoint claims position {checkpoint.Position} and {checkpoint.Count} records, which a checkpoint at position {position} cannot cover");
        else
        {
            if (checkpoint.Position == _tree.Size)
                _rootsAt[checkpoint.Position] = Convert.ToHexStringLower(_tree.Root());
            _claims.Add(new HeadClaim($"the checkpoint at position {position}", checkpoint.Position, checkpoint.Head, checkpoint.MerkleRoot, Rule: "checkpoint"));
        }
    }

    private void ObserveSegment(long position, long streamVersion, string setId, long sequence)
    {
        // A segment stream (set-SET/SEQUENCE) holds exactly one record, so its version is 0 and its sequence new.
        if (!_sets.TryGetValue(setId, out var set) || set.Status != SetStatus.Open)
            Find(position, "set", $"a segment is recorded for set {setId}, which is not open");
        else if (streamVersion != 0 || !set.Sequences.Add(sequence))
            Find(position, "stream-version", $"segment {sequence} of set {setId} is recorded a second time (stream version {streamVersion})");
    }

    private static Prepared PrepareSegment(EventRecord record)
    {
        Span<byte> stream = stackalloc byte[System.Text.Encoding.UTF8.GetMaxByteCount(Math.Min(record.StreamId.Length, 1024))];
        var written = record.StreamId.Length <= 1024 ? System.Text.Encoding.UTF8.GetBytes(record.StreamId, stream) : 0;
        return SegmentReading.TryRead(stream[..written], record.Payload, null, out var setId, out var sequence, out var problem)
            ? new Prepared(null, null, setId, sequence)
            : new Prepared(null, problem ?? "the SegmentStored record is unreadable");
    }

    private void ObserveSet(long position, object e)
    {
        var context = _governance!.ContextAt(position, default);
        switch (e)
        {
            case SetOpened o:
                if (_sets.ContainsKey(o.SetId))
                    Find(position, "set", $"set {o.SetId} is opened a second time");
                else
                    _sets[o.SetId] = new SetInfo { Status = SetStatus.Open };
                break;
            case SegmentStored s when !_sets.TryGetValue(s.SetId, out var set) || set.Status != SetStatus.Open:
                Find(position, "set", $"a segment is recorded for set {s.SetId}, which is not open");
                break;
            case SetSealed s:
                if (!_sets.TryGetValue(s.SetId, out var sealing) || sealing.Status != SetStatus.Open)
                {
                    Find(position, "set", $"set {s.SetId} is sealed but was not open");
                    break;
                }

                if (s.RetainUntil < s.At + context.Rules.MinimumRetention - TimeSpan.FromSeconds(1))
                    Find(position, "retention", $"set {s.SetId} is sealed with retention until {s.RetainUntil:u}, shorter than the minimum retention in force ({GovernanceChange.Show(context.Rules.MinimumRetention)})");
                sealing.Status = SetStatus.Sealed;
                sealing.RetainUntil = s.RetainUntil;
                break;
            case RetentionExtended r:
                if (!_sets.TryGetValue(r.SetId, out var extending) || extending.Status != SetStatus.Sealed)
                {
                    Find(position, "retention", $"retention is extended on set {r.SetId}, which is not sealed");
                    break;
                }

                var (_, refused) = RetentionDecider.Extend(new BackupSetState { Status = SetStatus.Sealed, RetainUntil = extending.RetainUntil },
                    new ExtendRetention(r.SetId, r.RetainUntil, r.ExtendedBy, Hex(r.Signature), Witness.From(r.SeenPosition, r.SeenHead)), context with { Now = r.At });
                if (refused is not null)
                    Find(position, refused.Code is RefusalCode.BadSignature or RefusalCode.UnknownApprover ? "signature" : "retention", $"the retention extension of set {r.SetId} would not be accepted ({refused.Code}: {refused.Reason})");
                else
                    extending.RetainUntil = r.RetainUntil;
                break;
            case LegalHoldPlaced h:
                if (!_sets.TryGetValue(h.SetId, out var holding))
                {
                    Find(position, "hold", $"a hold is placed on set {h.SetId}, which does not exist");
                    break;
                }

                var (_, holdRefused) = HoldDecider.Place(new BackupSetState { Status = holding.Status },
                    new PlaceHold(h.SetId, h.HoldId, h.Reason, h.PlacedBy, Hex(h.Signature), Witness.From(h.SeenPosition, h.SeenHead)), context with { Now = h.At });
                if (holdRefused is not null)
                    Find(position, holdRefused.Code is RefusalCode.BadSignature or RefusalCode.UnknownApprover ? "signature" : "hold", $"the hold {h.HoldId} on set {h.SetId} would not be accepted ({holdRefused.Code}: {holdRefused.Reason})");
                holding.Holds.Add(h.HoldId); // a hold only protects: even an unproved one is kept, and named above
                break;
            case LegalHoldReleased released:
                var target = RequestTargets.Hold(released.SetId, released.HoldId);
                var problem = !_requests.TryGetValue(released.RequestId, out var proof) ? $"there is no request {released.RequestId}"
                    : proof.State.Kind != RequestKind.ReleaseHold || !proof.State.Targets.SequenceEqual([target]) ? $"request {released.RequestId} is not a signed release of {target}"
                    : DeletionDecider.MayExecute(proof.State, "replay", _governance.ContextAt(position, released.At))?.Refusal is { } why ? $"request {released.RequestId} could not execute then ({why.Code}: {why.Reason})"
                    : null;
                if (problem is not null)
                    Find(position, "hold", $"hold {released.HoldId} on set {released.SetId} is released without its quorum: {problem}");
                else if (_sets.TryGetValue(released.SetId, out var releasing))
                    releasing.Holds.Remove(released.HoldId);
                break;
        }
    }

    private IReadOnlyDictionary<string, SetProtection> Protections() => new SealedSets(_sets);

    /// <summary>The protections of the sealed sets, looked up as a decision asks for them (never copied whole).</summary>
    private sealed class SealedSets(Dictionary<string, SetInfo> sets) : IReadOnlyDictionary<string, SetProtection>
    {
        public SetProtection this[string key] => TryGetValue(key, out var p) ? p : throw new KeyNotFoundException(key);

        public IEnumerable<string> Keys => sets.Where(p => p.Value.Status == SetStatus.Sealed).Select(p => p.Key);

        public IEnumerable<SetProtection> Values => Keys.Select(k => this[k]);

        public int Count => Keys.Count();

        public bool ContainsKey(string key) => TryGetValue(key, out _);

        public bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out SetProtection value)
        {
            value = sets.TryGetValue(key, out var set) && set.Status == SetStatus.Sealed ? new SetProtection(set.RetainUntil, [.. set.Holds]) : null;
            return value is not null;
        }

        public IEnumerator<KeyValuePair<string, SetProtection>> GetEnumerator() => Keys.Select(k => new KeyValuePair<string, SetProtection>(k, this[k])).GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    private void CheckWitness(long position, ISignedEvent signed)
    {
        if (signed.SeenPosition is not { } seen)
            return;
        if (seen < 1 || seen >= position)
        {
            Find(position, "witness", $"the signature witnesses position {seen}, which a record at position {position} cannot have seen");
            return;
        }

        var hash = Convert.ToHexStringLower(HashAt(seen));
        if (hash != signed.SeenHead)
            Find(seen, "witness", $"the signature recorded at position {position} witnessed record {seen} with hash {signed.SeenHead}, but the log has {hash} there: history up to there was rewritten");
    }

    private void CheckVersion(EventRecord record)
    {
        var expected = _versions.TryGetValue(record.StreamId, out var last) ? last + 1 : 0;
        if (record.StreamVersion != expected)
            Find(record.Position, "stream-version", $"stream '{record.StreamId}' goes to version {record.StreamVersion} after {expected - 1}: a record of the stream is missing or doubled");
        _versions[record.StreamId] = record.StreamVersion;
    }

    private void Remember(long position, ReadOnlySpan<byte> hash)
    {
        if ((_count + 1) * 32 > _hashes.Length)
            Array.Resize(ref _hashes, _hashes.Length * 2);
        hash.CopyTo(_hashes.AsSpan((int)(_count * 32)));
        _count = position;
    }

    private ReadOnlySpan<byte> HashAt(long position) => _hashes.AsSpan((int)((position - 1) * 32), 32);

    private void Find(long position, string rule, string detail)
    {
        FindingCount++;
        if (_findings.Count < MaxFindings)
            _findings.Add(new ProofFinding(position, rule, detail));
    }

    /// <summary>Why a stream id is not one the vault writes (docs/log-format.md), or null.</summary>
    public static string? StreamProblem(string streamId) =>
        streamId is VaultStreams.Vault or "rotation" or CheckpointRecorded.Stream || StreamPattern().IsMatch(streamId)
            ? null
            : $"'{streamId}' is not a stream id of this vault (vault, rotation, checkpoints, set-SET, set-SET/SEQUENCE, deletion-REQUEST)";

    private static string? BindingProblem(string streamId, object e) => e switch
    {
        _ when streamId.Contains('/', StringComparison.Ordinal) && e is not SegmentStored => $"a {e.GetType().Name} on the segment stream '{streamId}'",
        GovernanceChanged when streamId != VaultStreams.Vault => "a governance change outside stream 'vault'",
        CheckpointRecorded when streamId != CheckpointRecorded.Stream => "a checkpoint outside stream 'checkpoints'",
        IRequestEvent d when streamId != DeletionService.StreamPrefix + d.RequestId => $"an event of request {d.RequestId} on stream '{streamId}'",
        SegmentStored s when streamId != SetStreams.OfSegment(s.SetId, s.Sequence) => $"segment {s.Sequence} of set {s.SetId} on stream '{streamId}'",
        SetOpened o when streamId != SetStreams.Of(o.SetId) => $"set {o.SetId} opened on stream '{streamId}'",
        SetSealed s when streamId != SetStreams.Of(s.SetId) => $"set {s.SetId} sealed on stream '{streamId}'",
        RetentionExtended r when streamId != SetStreams.Of(r.SetId) => $"set {r.SetId}'s retention on stream '{streamId}'",
        LegalHoldPlaced h when streamId != SetStreams.Of(h.SetId) => $"a hold on set {h.SetId} on stream '{streamId}'",
        LegalHoldReleased h when streamId != SetStreams.Of(h.SetId) => $"a hold release on set {h.SetId} on stream '{streamId}'",
        _ => null,
    };

    private static byte[] Hex(string? text)
    {
        try
        {
            return text is null ? [] : Convert.FromHexString(text);
        }
        catch (FormatException)
        {
            return [];
        }
    }

    [GeneratedRegex(@"^(set-[a-z0-9][a-z0-9._-]{0,127}(/(0|[1-9][0-9]{0,18}))?|deletion-[a-z0-9][a-z0-9-]{0,63})$")]
    private static partial Regex StreamPattern();
}
