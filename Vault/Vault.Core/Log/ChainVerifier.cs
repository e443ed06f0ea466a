namespace Vault.Core.Log;

/// <summary>
/// Walks the log in position order and reports the first record where the chain does not hold.
/// <see cref="CheckSelf"/> is pure and may run in parallel; <see cref="CheckLink"/> must see records in order.
/// </summary>
public sealed class ChainVerifier
{
    /// <summary>How far either side a record's hash is tried, to tell a moved record from an altered one.</summary>
    private const int MoveWindow = 16;

    private long _expectedPosition;
    private byte[] _previousHash;
    private long _headPosition;
    private LogHead? _head;
    private bool _owned;

    /// <param name="trustedStart">Start after this record (position and hash known good); null for genesis.</param>
    public ChainVerifier(LogHead? trustedStart = null)
    {
        var start = trustedStart ?? LogHead.Empty;
        _expectedPosition = start.Position + 1;
        _previousHash = start.Hash;
        _headPosition = start.Position;
        _head = start;
    }

    /// <summary>The last record that passed both checks.</summary>
    public LogHead Head => _head ??= new LogHead(_headPosition, _previousHash.ToArray());

    public long Checked { get; private set; }

    /// <summary>Is the record's own hash right for its fields at its position?</summary>
    public static ChainViolation? CheckSelf(EventRecord record)
    {
        if (ChainHash.Matches(record, record.Position))
            return null;
        for (var delta = 1; delta <= MoveWindow; delta++)
        {
            foreach (var candidate in new[] { record.Position - delta, record.Position + delta })
            {
                if (candidate >= 1 && ChainHash.Matches(record, candidate))
                    return new ChainViolation(record.Position, ViolationKind.Moved,
                        $"the record stored at position {record.Position} was written at position {candidate}: records were swapped, inserted or removed here");
            }
        }

        return new ChainViolation(record.Position, ViolationKind.Altered,
            $"the record (stream '{record.StreamId}' version {record.StreamVersion}, type {record.EventType}) does not match its hash: a field was altered");
    }

    /// <summary>Does the record come next, and point at the record before it? Call in position order, after <see cref="CheckSelf"/> passed.</summary>
    public ChainViolation? CheckLink(EventRecord record) => CheckLink(record.Position, record.PreviousHash, record.Hash);

    /// <summary>The same for a record seen only by its position and hashes (the chain-only scan keeps nothing else).</summary>
    public ChainViolation? CheckLink(long position, ReadOnlySpan<byte> previousHash, ReadOnlySpan<byte> hash)
    {
        if (position != _expectedPosition)
        {
            return position > _expectedPosition
                ? new ChainViolation(_expectedPosition, ViolationKind.Missing,
                    position == _expectedPosition + 1
                        ? $"record {_expectedPosition} is missing (the next stored record is {position})"
                        : $"records {_expectedPosition} to {position - 1} are missing")
                : new ChainViolation(position, ViolationKind.Moved, $"record {position} appears out of order after record {_expectedPosition - 1}");
        }

        if (!previousHash.SequenceEqual(_previousHash))
            return new ChainViolation(position, ViolationKind.BrokenLink,
                $"the record does not follow record {position - 1}: its previous hash is {Convert.ToHexStringLower(previousHash)}, record {position - 1} has {Convert.ToHexStringLower(_previousHash)}");

        _expectedPosition++;
        if (!_owned || _previousHash.Length != hash.Length)
        {
            _previousHash = new byte[hash.Length]; // never write into the trusted start's array
            _owned = true;
        }

        hash.CopyTo(_previousHash);
        _headPosition = position;
        _head = null;
        Checked++;
        return null;
    }

    /// <summary>Both checks, in order.</summary>
    public ChainViolation? Check(EventRecord record) => CheckSelf(record) ?? CheckLink(record);

    /// <summary>After the last record: does the log reach a head known from elsewhere (a checkpoint, a site copy)?</summary>
    public ChainViolation? CheckReaches(LogHead expected, byte[]? hashAtExpected)
    {
        if (Head.Position < expected.Position)
            return new ChainViolation(Head.Position + 1, ViolationKind.Missing,
                $"the log ends at position {Head.Position}, but a trusted head says it reached {expected.Position}: records were removed from the end");
        if (hashAtExpected is null || !hashAtExpected.AsSpan().SequenceEqual(expected.Hash))
            return new ChainViolation(expected.Position, ViolationKind.Altered,
                $"record {expected.Position} does not have the trusted hash {expected.HashHex}: history up to there was rewritten");
        return null;
    }
}
