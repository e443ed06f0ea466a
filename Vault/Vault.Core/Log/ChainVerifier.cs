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

    /// <param name="trustedStart">Start after this record (position and hash known good); null for genesis.</param>
    public ChainVerifier(LogHead? trustedStart = null)
    {
        var start = trustedStart ?? LogHead.Empty;
        _expectedPosition = start.Position + 1;
        _previousHash = start.Hash;
        Head = start;
    }

    /// <summary>The last record that passed both checks.</summary>
    public LogHead Head { get; private set; }

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
    public ChainViolation? CheckLink(EventRecord record)
    {
        if (record.Position != _expectedPosition)
        {
            return record.Position > _expectedPosition
                ? new ChainViolation(_expectedPosition, ViolationKind.Missing,
                    record.Position == _expectedPosition + 1
                        ? $"record {_expectedPosition} is missing (the next stored record is {record.Position})"
                        : $"records {_expectedPosition} to {record.Position - 1} are missing")
                : new ChainViolation(record.Position, ViolationKind.Moved, $"record {record.Position} appears out of order after record {_expectedPosition - 1}");
        }

        if (!record.PreviousHash.AsSpan().SequenceEqual(_previousHash))
            return new ChainViolation(record.Position, ViolationKind.BrokenLink,
                $"the record does not follow record {record.Position - 1}: its previous hash is {Convert.ToHexStringLower(record.PreviousHash)}, record {record.Position - 1} has {Convert.ToHexStringLower(_previousHash)}");

        _expectedPosition++;
        _previousHash = record.Hash;
        Head = new LogHead(record.Position, record.Hash);
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
