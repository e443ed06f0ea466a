using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rotation.Custodian;

/// <summary>One line of a custodian's journal: what happened, to what, asked by whom, and the outcome.</summary>
public sealed record JournalEntry(
    [property: JsonPropertyName("seq")] long Sequence,
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("actor")] string Actor,
    [property: JsonPropertyName("action")] string Action,
    [property: JsonPropertyName("outcome")] string Outcome,
    [property: JsonPropertyName("label"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Label = null,
    [property: JsonPropertyName("writeId"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? WriteId = null,
    [property: JsonPropertyName("sha256"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Sha256 = null,
    [property: JsonPropertyName("reason"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason = null);

/// <summary>
/// The custodian's own append-only, hash-chained journal (journal.log in its root): one line per event,
/// "HASH PREV JSON", where HASH is the lower-case hex SHA-256 of the UTF-8 bytes of PREV, a line feed and JSON exactly
/// as written, and PREV is the hash of the line before (64 zeros for the first). Re-checkable with sha256sum alone.
/// Every line is flushed to disk before the request it records is answered.
/// </summary>
public sealed class CustodianJournal
{
    public const string FileName = "journal.log";
    public static readonly string Zero = new('0', 64);

    private readonly string _path;
    private readonly Lock _gate = new();
    private string _head;
    private long _count;

    private CustodianJournal(string path, string head, long count)
    {
        _path = path;
        _head = head;
        _count = count;
    }

    public string Head => _head;
    public long Count => _count;

    /// <summary>Opens the journal, verifying every line; a broken chain stops the custodian (it does not write after damage).</summary>
    public static CustodianJournal Open(string root)
    {
        var path = Path.Combine(root, FileName);
        var (head, count, problem) = Verify(path);
        if (problem is not null)
            throw new InvalidDataException($"The custodian journal {path} does not verify: {problem}. The custodian will not write after a rewritten or damaged journal; keep the file for examination.");
        return new CustodianJournal(path, head, count);
    }

    /// <summary>Re-checks every line: (head hash, lines, the first problem or null).</summary>
    public static (string Head, long Count, string? Problem) Verify(string path)
    {
        var prev = Zero;
        long count = 0;
        if (!File.Exists(path))
            return (prev, 0, null);
        foreach (var line in File.ReadLines(path))
        {
            count++;
            var parts = line.Split(' ', 3);
            if (parts.Length != 3 || parts[1] != prev || Hash(prev, parts[2]) != parts[0])
                return (prev, count - 1, $"line {count} does not chain to the one before");
            try
            {
                if (JsonSerializer.Deserialize<JournalEntry>(parts[2])?.Sequence != count)
                    return (prev, count - 1, $"line {count} is out of sequence");
            }
            catch (JsonException)
            {
                return (prev, count - 1, $"line {count} is not a journal entry");
            }

            prev = parts[0];
        }

        return (prev, count, null);
    }

    public JournalEntry Append(DateTimeOffset at, string actor, string action, string outcome, string? label = null, string? writeId = null, string? sha256 = null, string? reason = null)
    {
        lock (_gate)
        {
            var entry = new JournalEntry(_count + 1, at, actor, action, outcome, label, writeId, sha256, reason);
            var json = JsonSerializer.Serialize(entry);
            var hash = Hash(_head, json);
            using (var file = new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.Read))
            {
                file.Write(Encoding.UTF8.GetBytes($"{hash} {_head} {json}\n"));
                file.Flush(flushToDisk: true);
            }

            _head = hash;
            _count++;
            return entry;
        }
    }

    public static string Hash(string prev, string json) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(prev + "\n" + json)));
}
