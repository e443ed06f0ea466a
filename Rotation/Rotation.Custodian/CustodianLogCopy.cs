using System.Text;
using Rotation.Service.Custodians;
using Vault.Core.Log;

namespace Rotation.Custodian;

/// <summary>
/// The custodian's own copy of the vault's log (log/records.jsonl, one record line each, docs/audit.md): it only
/// grows, and only by records that continue it (next position, previous hash equal to its head, a hash that fits
/// the fields). A primary whose log was rewritten cannot extend it, and a checkpoint that contradicts it is refused.
/// 'vault recover' rebuilds a primary from it.
/// </summary>
public sealed class CustodianLogCopy
{
    private readonly string _path;
    private byte[] _hashes = new byte[32 * 1024];

    public long Count { get; private set; }
    public byte[] Head { get; private set; } = ChainHash.Genesis;

    private CustodianLogCopy(string path) => _path = path;

    /// <summary>Opens the copy, re-checking every line; a copy that does not verify stops the custodian.</summary>
    public static CustodianLogCopy Open(string root)
    {
        var directory = Path.Combine(root, "log");
        Directory.CreateDirectory(directory);
        var copy = new CustodianLogCopy(Path.Combine(directory, "records.jsonl"));
        if (!File.Exists(copy._path))
            return copy;
        foreach (var line in File.ReadLines(copy._path))
        {
            EventRecord record;
            try
            {
                record = LogRecordLine.Parse(Encoding.UTF8.GetBytes(line));
            }
            catch (FormatException ex)
            {
                throw new InvalidDataException($"The custodian's log copy {copy._path} is damaged at line {copy.Count + 1} ({ex.Message}); keep it for examination.");
            }

            if (LogRecordLine.Continues(record, copy.Count, copy.Head) is { } problem)
                throw new InvalidDataException($"The custodian's log copy {copy._path} does not verify: {problem}; keep it for examination.");
            copy.Add(record.Hash);
        }

        return copy;
    }

    /// <summary>The hash of the record at <paramref name="position"/> (1 ≤ position ≤ Count).</summary>
    public ReadOnlySpan<byte> HashAt(long position) => _hashes.AsSpan(checked((int)((position - 1) * 32)), 32);

    private void Add(byte[] hash)
    {
        var offset = checked((int)(Count * 32));
        if (offset + 32 > _hashes.Length)
            Array.Resize(ref _hashes, Math.Max(_hashes.Length * 2, offset + 32));
        hash.CopyTo(_hashes, offset);
        Count++;
        Head = hash;
    }

    /// <summary>
    /// Appends the record lines in <paramref name="body"/>, all or none: each must continue the copy. Returns how many
    /// were added; a <see cref="CustodianRefusal"/> when one does not continue it (nothing is added then).
    /// </summary>
    public async Task<long> AppendAsync(Stream body, long from, CancellationToken ct)
    {
        if (from != Count + 1)
            throw new CustodianRefusal(409, CustodianProtocol.Codes.LogGap, $"this custodian's log copy ends at record {Count}; send from {Count + 1}, not {from}");
        var pending = _path + ".incoming";
        var count = Count;
        var head = Head;
        var hashes = new List<byte[]>();
        try
        {
            await using (var output = new FileStream(pending, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                using var reader = new StreamReader(body, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, bufferSize: 1 << 16);
                while (await reader.ReadLineAsync(ct) is { } line)
                {
                    if (line.Length == 0)
                        continue;
                    var bytes = Encoding.UTF8.GetBytes(line);
                    EventRecord record;
                    try
                    {
                        record = LogRecordLine.Parse(bytes);
                    }
                    catch (FormatException ex)
                    {
                        throw new CustodianRefusal(400, CustodianProtocol.Codes.Malformed, $"line {count - Count + 1} of the log sent is {ex.Message}; nothing was added");
                    }

                    if (LogRecordLine.Continues(record, count, head) is { } problem)
                        throw new CustodianRefusal(409, CustodianProtocol.Codes.Fork, $"the log sent does not continue the copy kept here: {problem}; nothing was added. Either the primary's log was rewritten or it is not this vault's");
                    await output.WriteAsync(bytes, ct);
                    output.WriteByte((byte)'\n');
                    count++;
                    head = record.Hash;
                    hashes.Add(record.Hash);
                }

                output.Flush(flushToDisk: true);
            }

            if (hashes.Count > 0)
            {
                await using (var log = new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.Read, 1 << 16))
                await using (var input = new FileStream(pending, FileMode.Open, FileAccess.Read))
                {
                    await input.CopyToAsync(log, ct);
                    log.Flush(flushToDisk: true);
                }

                foreach (var hash in hashes)
                    Add(hash);
            }

            return hashes.Count;
        }
        finally
        {
            File.Delete(pending);
        }
    }

    /// <summary>Reads the copy from <paramref name="from"/> on, line by line.</summary>
    public async IAsyncEnumerable<string> ReadAsync(long from, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        if (!File.Exists(_path))
            yield break;
        using var reader = new StreamReader(new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16, FileOptions.SequentialScan));
        long position = 0;
        var end = Count; // what was whole when the read began
        while (position < end && await reader.ReadLineAsync(ct) is { } line)
        {
            if (++position >= from)
                yield return line;
        }
    }
}
