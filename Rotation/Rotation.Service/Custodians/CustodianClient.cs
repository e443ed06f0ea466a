using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Vault.Core.Checkpoints;
using Vault.Core.Errors;

namespace Rotation.Service.Custodians;

/// <summary>A custodian could not be reached (down, refused the connection, timed out): nothing changed there; try again later.</summary>
public sealed class CustodianUnavailableException(string message, Exception? inner = null) : VaultException(message, inner)
{
    public override FailureKind Kind => FailureKind.Unavailable;
}

/// <summary>A custodian refused a request, with its code and reason (docs/sites.md).</summary>
public sealed class CustodianRefusedException(string site, int status, string code, string reason)
    : VaultException($"The custodian of {site} refused: {reason} ({code}).")
{
    public override FailureKind Kind => FailureKind.Refused;
    public string Site { get; } = site;
    public int Status { get; } = status;
    public string Code { get; } = code;
    public string Reason { get; } = reason;
}

/// <summary>
/// The primary's side of a site custodian (docs/sites.md): deposit an image with its facts, read it back (hashed as
/// it arrives), ask for it back after its retention, extend retention, and leave or fetch checkpoints. The
/// credential is a bearer token read from a file.
/// </summary>
public sealed class CustodianClient : IDisposable
{
    private readonly HttpClient _http;

    public string Site { get; }
    public Uri Address { get; }

    public CustodianClient(string site, Uri address, string token, TimeSpan? timeout = null)
    {
        Site = site;
        Address = address;
        _http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) })
        {
            BaseAddress = new Uri(address.ToString().TrimEnd('/') + "/"),
            Timeout = timeout ?? TimeSpan.FromMinutes(30),
        };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    /// <summary>A client for a site of the policy: its url and the token in its credential file.</summary>
    public static CustodianClient For(SiteDefinitionAccess site)
    {
        string token;
        try
        {
            token = File.ReadAllText(site.CredentialFile).Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new VaultConfigurationException($"The credential file of site {site.Name} ({site.CredentialFile}) cannot be read: {ex.Message}", ex);
        }

        return new CustodianClient(site.Name, site.Url, token);
    }

    public async Task<CustodyEntry> DepositAsync(string imagePath, string label, string writeId, string sha256, DateOnly retainUntil, DateOnly arrivesOn, CancellationToken ct)
    {
        await using var image = new FileStream(imagePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
        using var request = new HttpRequestMessage(HttpMethod.Put, CustodianProtocol.Image(label)) { Content = new StreamContent(image, 1 << 20) };
        request.Content.Headers.ContentLength = image.Length;
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        request.Headers.Add(CustodianProtocol.WriteIdHeader, writeId);
        request.Headers.Add(CustodianProtocol.Sha256Header, sha256);
        request.Headers.Add(CustodianProtocol.RetainUntilHeader, retainUntil.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        request.Headers.Add(CustodianProtocol.ArrivesOnHeader, arrivesOn.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        return await SendAsync<CustodyEntry>(request, $"deposit {label}", ct);
    }

    /// <summary>The custodian's facts and status of an image, or null when it holds none by that label.</summary>
    public async Task<CustodyEntry?> FactsAsync(string label, CancellationToken ct)
    {
        try
        {
            return await SendAsync<CustodyEntry>(new HttpRequestMessage(HttpMethod.Get, CustodianProtocol.Facts(label)), $"facts of {label}", ct);
        }
        catch (CustodianRefusedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    public Task<IReadOnlyList<CustodyEntry>> ListAsync(CancellationToken ct) =>
        SendAsync<IReadOnlyList<CustodyEntry>>(new HttpRequestMessage(HttpMethod.Get, CustodianProtocol.Images), "list images", ct);

    /// <summary>Takes an image back; before its retain-until only with <paramref name="requestId"/>, an approved rotation request the custodian proves itself.</summary>
    public Task<ImageFacts> ReturnAsync(string label, CancellationToken ct, string? requestId = null) =>
        SendAsync<ImageFacts>(new HttpRequestMessage(HttpMethod.Delete, CustodianProtocol.Image(label) + (requestId is null ? "" : $"?request={Uri.EscapeDataString(requestId)}")), $"return {label}", ct);

    public Task<ImageFacts> ExtendAsync(string label, DateOnly until, CancellationToken ct) =>
        SendAsync<ImageFacts>(new HttpRequestMessage(HttpMethod.Post, $"{CustodianProtocol.Retain(label)}?until={until:yyyy-MM-dd}"), $"extend {label}", ct);

    public async Task PutCheckpointAsync(CheckpointCopy copy, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, CustodianProtocol.Checkpoints) { Content = JsonContent.Create(copy) };
        await SendAsync<object>(request, "deposit a checkpoint", ct);
    }

    public async Task<CheckpointCopy?> LatestCheckpointAsync(CancellationToken ct)
    {
        try
        {
            return await SendAsync<CheckpointCopy>(new HttpRequestMessage(HttpMethod.Get, CustodianProtocol.LatestCheckpoint), "latest checkpoint", ct);
        }
        catch (CustodianRefusedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    public Task<LogCopyHead> LogHeadAsync(CancellationToken ct) =>
        SendAsync<LogCopyHead>(new HttpRequestMessage(HttpMethod.Get, CustodianProtocol.LogHead), "log copy head", ct);

    /// <summary>Sends records <paramref name="from"/> on (streamed as record lines) to extend the custodian's log copy.</summary>
    public Task<LogCopyHead> AppendLogAsync(long from, IAsyncEnumerable<Vault.Core.Log.EventRecord> records, CancellationToken ct) =>
        SendAsync<LogCopyHead>(new HttpRequestMessage(HttpMethod.Put, $"{CustodianProtocol.Log}?from={from}") { Content = new RecordLines(records) }, "extend the log copy", ct);

    /// <summary>Streams the custodian's log copy, record by record (parsed, not yet verified: the caller checks the chain).</summary>
    public async IAsyncEnumerable<Vault.Core.Log.EventRecord> ReadLogAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{CustodianProtocol.Log}?from=1");
        using var response = await Call(() => _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct), "read the log copy");
        await ThrowIfRefused(response, ct);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct), System.Text.Encoding.UTF8, false, 1 << 16);
        while (await Call(() => reader.ReadLineAsync(ct).AsTask(), "read the log copy") is { } line)
        {
            if (line.Length > 0)
                yield return Vault.Core.Log.LogRecordLine.Parse(System.Text.Encoding.UTF8.GetBytes(line));
        }
    }

    private sealed class RecordLines(IAsyncEnumerable<Vault.Core.Log.EventRecord> records) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context, CancellationToken cancellationToken)
        {
            await using var line = new System.Text.Json.Utf8JsonWriter(stream, Vault.Core.Log.LogRecordLine.WriterOptions);
            await foreach (var record in records.WithCancellation(cancellationToken))
            {
                Vault.Core.Log.LogRecordLine.Write(line, record);
                await line.FlushAsync(cancellationToken);
                stream.WriteByte((byte)'\n');
                line.Reset(stream);
            }
        }

        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => SerializeToStreamAsync(stream, context, default);

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    /// <summary>
    /// Streams an image to <paramref name="consume"/> (which must read it to its end) while hashing it; the SHA-256 is
    /// compared with <paramref name="expectedSha256"/> when the stream is done. What the consumer did with the bytes
    /// before that must be safe without it (segments each checked against their own hash).
    /// </summary>
    public async Task<long> StreamImageAsync(string label, string expectedSha256, Func<Stream, long, Task> consume, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, CustodianProtocol.Image(label));
        using var response = await Call(() => _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct), $"read {label}");
        await ThrowIfRefused(response, ct);
        var total = response.Content.Headers.ContentLength ?? throw new StorageCorruptException($"The custodian of {Site} sent {label} without its length.");
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        await using var hashing = new HashingStream(body);
        try
        {
            await consume(new BufferedStream(hashing, 1 << 20), total);
        }
        catch (IOException ex)
        {
            throw new CustodianUnavailableException($"The connection to the custodian of {Site} broke while reading {label} ({ex.Message}).", ex);
        }

        var actual = hashing.Finish();
        if (hashing.Bytes != total || actual != expectedSha256)
            throw new StorageCorruptException($"The image of {label} read back from the custodian of {Site} has SHA-256 {actual} over {hashing.Bytes} bytes, not the {expectedSha256} written: it is not the image the vault wrote.");
        return total;
    }

    private sealed class HashingStream(Stream inner) : Stream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public long Bytes { get; private set; }

        public string Finish() => Convert.ToHexStringLower(_hash.GetHashAndReset());

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = inner.Read(buffer);
            _hash.AppendData(buffer[..n]);
            Bytes += n;
            return n;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await inner.ReadAsync(buffer, cancellationToken);
            _hash.AppendData(buffer.Span[..n]);
            Bytes += n;
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => Bytes; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                _hash.Dispose();
            base.Dispose(disposing);
        }
    }

    /// <summary>Reads an image back into <paramref name="target"/> (written beside it, then renamed), checking its SHA-256 against <paramref name="expectedSha256"/> as it arrives.</summary>
    public async Task<long> DownloadAsync(string label, string expectedSha256, string target, CancellationToken ct)
    {
        var partial = target + ".partial";
        try
        {
            var bytes = await StreamImageAsync(label, expectedSha256, async (body, _) =>
            {
                await using var output = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous);
                await body.CopyToAsync(output, 1 << 20, ct);
            }, ct);
            File.Move(partial, target, overwrite: false);
            return bytes;
        }
        finally
        {
            File.Delete(partial);
        }
    }

    private async Task<T> SendAsync<T>(HttpRequestMessage request, string what, CancellationToken ct)
    {
        using (request)
        {
            using var response = await Call(() => _http.SendAsync(request, ct), what);
            await ThrowIfRefused(response, ct);
            if (response.StatusCode == HttpStatusCode.NoContent || typeof(T) == typeof(object))
                return default!;
            return await response.Content.ReadFromJsonAsync<T>(CustodianProtocol.Json, ct)
                ?? throw new StorageCorruptException($"The custodian of {Site} answered '{what}' with an empty body.");
        }
    }

    /// <summary>The custodian's journal as it is on its disk (lines "HASH PREV JSON").</summary>
    public async Task<string> JournalAsync(CancellationToken ct)
    {
        using var response = await Call(() => _http.GetAsync(CustodianProtocol.Journal, ct), "journal");
        await ThrowIfRefused(response, ct);
        return await response.Content.ReadAsStringAsync(ct);
    }

    /// <summary>The custodian's journal head as its last answer gave it (<c>Vault-Journal-Head: COUNT HASH</c>), if it did.</summary>
    public (long Count, string Hash)? JournalHead { get; private set; }

    private void NoteJournalHead(HttpResponseMessage response)
    {
        if (response.Headers.TryGetValues(CustodianProtocol.JournalHeader, out var values) && values.FirstOrDefault()?.Split(' ') is [var count, var hash]
            && long.TryParse(count, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n))
            JournalHead = (n, hash);
    }

    private async Task ThrowIfRefused(HttpResponseMessage response, CancellationToken ct)
    {
        NoteJournalHead(response);
        if (response.IsSuccessStatusCode)
            return;
        CustodianError? error = null;
        try
        {
            error = await response.Content.ReadFromJsonAsync<CustodianError>(CustodianProtocol.Json, ct);
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or NotSupportedException or HttpRequestException)
        {
        }

        throw new CustodianRefusedException(Site, (int)response.StatusCode, error?.Code ?? $"http-{(int)response.StatusCode}", error?.Reason ?? $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
    }

    private async Task<T> Call<T>(Func<Task<T>> call, string what)
    {
        try
        {
            return await call();
        }
        catch (HttpRequestException ex)
        {
            throw new CustodianUnavailableException($"The custodian of {Site} at {Address} could not be reached to {what} ({ex.Message}); nothing changed there. Check that 'vault site serve' runs there, and try again.", ex);
        }
        catch (IOException ex)
        {
            throw new CustodianUnavailableException($"The connection to the custodian of {Site} at {Address} broke during '{what}' ({ex.Message}); nothing was accepted by halves. Try again.", ex);
        }
        catch (TaskCanceledException ex) when (ex.InnerException is TimeoutException)
        {
            throw new CustodianUnavailableException($"The custodian of {Site} at {Address} did not answer in time to {what}; try again.", ex);
        }
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>What a client needs of a custodian site: its name, address and credential file.</summary>
public sealed record SiteDefinitionAccess(string Name, Uri Url, string CredentialFile);
