using System.Text.Json;
using Ingest.Client;
using Ingest.Contracts;
using Ingest.Service.Consumers;
using MassTransit;

namespace Ingest.Service;

/// <summary>The four ingest queues, for the checks that differ between them.</summary>
public enum WireKind
{
    Open,
    Segment,
    Seal,
    Query,
}

/// <summary>What <see cref="WireCheck.Inspect"/> made of a JSON body.</summary>
/// <param name="Unreadable">Why the body cannot be read at all (nothing can be answered), or null.</param>
/// <param name="Problem">The first field of the wrong type, as a sentence, or null.</param>
/// <param name="ReplyTo">The reply queue, when the body names one readably.</param>
public sealed record WireFinding(string? Unreadable, string? Problem, string? ReplyTo, string? SetId, long? Sequence, string? QueryId);

/// <summary>
/// Reads a JSON ingest message before MassTransit binds it to its contract, so that a field of the wrong type
/// ("sequence": "seven", "data": "!!", "labels": "k=v", "hashes": [7]) is answered as <c>malformed</c> naming the
/// field, instead of failing in the deserializer where no reply can be sent. Field names match case-insensitively,
/// as the deserializer binds them; unknown fields are ignored; a null is left for the handler's own checks
/// (missing fields are refused there, naming them).
/// </summary>
public static class WireCheck
{
    private enum Shape
    {
        Text,
        Integer,
        Base64,
        Labels,
        Hashes,
    }

    private static readonly Dictionary<WireKind, Dictionary<string, Shape>> Fields = new()
    {
        [WireKind.Open] = Schema(("setId", Shape.Text), ("source", Shape.Text), ("name", Shape.Text), ("kind", Shape.Text), ("labels", Shape.Labels), ("replyTo", Shape.Text)),
        [WireKind.Segment] = Schema(("setId", Shape.Text), ("sequence", Shape.Integer), ("sha256", Shape.Text), ("length", Shape.Integer), ("encoding", Shape.Text), ("data", Shape.Base64), ("replyTo", Shape.Text)),
        [WireKind.Seal] = Schema(("setId", Shape.Text), ("segmentCount", Shape.Integer), ("manifestSha256", Shape.Text), ("manifestLength", Shape.Integer), ("manifestEncoding", Shape.Text), ("manifest", Shape.Base64), ("replyTo", Shape.Text)),
        [WireKind.Query] = Schema(("queryId", Shape.Text), ("hashes", Shape.Hashes), ("replyTo", Shape.Text)),
    };

    private static Dictionary<string, Shape> Schema(params (string Name, Shape Shape)[] fields) =>
        fields.ToDictionary(f => f.Name, f => f.Shape, StringComparer.OrdinalIgnoreCase);

    public static WireFinding Inspect(WireKind kind, ReadOnlyMemory<byte> body)
    {
        try
        {
            return InspectBody(kind, body);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or FormatException or JsonException)
        {
            return new WireFinding($"the body cannot be read ({ex.Message.TrimEnd('.')})", null, null, null, null, null); // e.g. text that is not UTF-8
        }
    }

    private static WireFinding InspectBody(WireKind kind, ReadOnlyMemory<byte> body)
    {
        if (body.IsEmpty)
            return new WireFinding("the body is empty: a message is one JSON object (docs/wire-format.md)", null, null, null, null, null);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException ex)
        {
            return new WireFinding($"the body is not JSON ({ex.Message})", null, null, null, null, null);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return new WireFinding($"the body is a JSON {root.ValueKind.ToString().ToLowerInvariant()}, not an object", null, null, null, null, null);
            string? Text(string name) => Property(root, name) is { ValueKind: JsonValueKind.String } p ? p.GetString() : null;
            long? Integer(string name) => Property(root, name) is { ValueKind: JsonValueKind.Number } p && p.TryGetInt64(out var n) ? n : null;
            var schema = Fields[kind];
            string? problem = null;
            foreach (var property in root.EnumerateObject())
            {
                if (problem is not null || !schema.TryGetValue(property.Name, out var shape) || property.Value.ValueKind == JsonValueKind.Null)
                    continue;
                problem = ShapeProblem(property.Name, shape, property.Value);
            }

            return new WireFinding(null, problem, Text("replyTo"), Text("setId"), Integer("sequence"), Text("queryId"));
        }
    }

    private static JsonElement? Property(JsonElement root, string name)
    {
        foreach (var property in root.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
                return property.Value;
        }

        return null;
    }

    private static string? ShapeProblem(string name, Shape shape, JsonElement value) => shape switch
    {
        Shape.Text when value.ValueKind != JsonValueKind.String => $"field '{name}' must be a string; it is {Describe(value)}",
        Shape.Integer when value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out _) => $"field '{name}' must be a whole number; it is {Describe(value)}",
        Shape.Base64 when value.ValueKind != JsonValueKind.String || !IsBase64(value) => $"field '{name}' must be base64 text; it is {Describe(value)}",
        Shape.Labels when value.ValueKind != JsonValueKind.Object => $"field '{name}' must be an object of string values; it is {Describe(value)}",
        Shape.Labels when value.EnumerateObject().FirstOrDefault(l => l.Value.ValueKind != JsonValueKind.String) is { Name: not null } bad =>
            $"label '{bad.Name}' must be a string; it is {Describe(bad.Value)}",
        Shape.Hashes when value.ValueKind != JsonValueKind.Array => $"field '{name}' must be an array of strings; it is {Describe(value)}",
        Shape.Hashes when value.EnumerateArray().Select((h, i) => (h, i)).FirstOrDefault(x => x.h.ValueKind != JsonValueKind.String) is { h.ValueKind: not JsonValueKind.Undefined } bad =>
            $"hashes[{bad.i}] must be a string; it is {Describe(bad.h)}",
        _ => null,
    };

    /// <summary>Valid base64, checked on the body's own bytes (a segment's data is megabytes: not decoded twice).</summary>
    private static bool IsBase64(JsonElement value)
    {
        var raw = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(value); // with its quotes
        var text = raw[1..^1];
        return text.IndexOfAny("\\ \t\r\n"u8) < 0 ? System.Buffers.Text.Base64.IsValid(text) : value.TryGetBytesFromBase64(out _);
    }

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString() is { Length: <= 40 } s ? $"the string \"{s}\"" : "a string that is not",
        JsonValueKind.Number => $"the number {value.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => $"the boolean {value.GetRawText()}",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => value.ValueKind.ToString().ToLowerInvariant(),
    };

    /// <summary>The rejection a producer gets for a message of this kind.</summary>
    public static IngestReply Rejection(WireKind kind, WireFinding finding, string code, string reason) => kind switch
    {
        WireKind.Segment => new IngestReply { Type = IngestReply.SegmentRejectedType, SetId = finding.SetId, Sequence = finding.Sequence, Code = code, Reason = reason },
        WireKind.Query => new IngestReply { Type = IngestReply.QueryRejectedType, QueryId = finding.QueryId, Code = code, Reason = reason },
        _ => new IngestReply { Type = IngestReply.SetRejectedType, SetId = finding.SetId, Code = code, Reason = reason },
    };
}

/// <summary>A message whose body cannot be read at all: it goes to the queue's _error queue with this reason.</summary>
public sealed class UnreadableMessageException(string reason) : Exception(reason);

/// <summary>
/// The error pipe of each ingest queue, where every message that failed ends (after the retries): before it moves to
/// the _error queue, the producer gets the answer the failure calls for, on the reply queue its message names —
///   a field of the wrong type (the contract could not be bound): <c>malformed</c>, naming the field;
///   storage still failing after the retries (full disk, lost mount, database down): <c>storage-unavailable</c>, retryable;
///   anything else: <c>internal-error</c>, naming the exception (a bug to report; the message waits in _error).
/// A message already answered by its handler (a rejection) is not answered twice; a body that cannot be read at all
/// cannot be answered, and its reason goes into the _error message's <c>vault-reason</c> header.
/// </summary>
public sealed class FaultAnswerFilter(WireKind kind) : IFilter<ExceptionReceiveContext>
{
    public const string ReasonHeader = "vault-reason";

    public async Task Send(ExceptionReceiveContext context, IPipe<ExceptionReceiveContext> next)
    {
        try
        {
            await AnswerAsync(context);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            context.ExceptionHeaders.Set(ReasonHeader + "-answer", $"the producer could not be answered: {ex.Message}");
            if (context.ExceptionHeaders.Get<string>(ReasonHeader) is null)
                context.ExceptionHeaders.Set(ReasonHeader, $"The message failed ({context.Exception.Message}) and its producer could not be answered ({ex.Message}).");
        }

        await next.Send(context);
    }

    private async Task AnswerAsync(ExceptionReceiveContext context)
    {
        if (Find<IngestRejectedException>(context.Exception) is { } rejected)
        {
            context.ExceptionHeaders.Set(ReasonHeader, rejected.Message); // its handler answered it already
            return;
        }
        var name = kind.ToString().ToLowerInvariant();
        var binary = context.ContentType?.MediaType == SegmentWireFormat.MediaType;
        var finding = binary ? FromHeaders(context.TransportHeaders) : WireCheck.Inspect(kind, context.Body.GetBytes());
        if (finding.Unreadable is { } unreadable)
        {
            context.ExceptionHeaders.Set(ReasonHeader, $"Unreadable {name} message: {unreadable}. Nothing was recorded.");
            IngestMetrics.Unanswerable(kind);
            return;
        }

        var (code, reason) = Find<Vault.Core.Errors.StorageUnavailableException>(context.Exception) is { } unavailable
            ? ("storage-unavailable", $"The vault's storage is unavailable ({unavailable.Message.TrimEnd('.')}). This is retryable: send the same message again later; nothing was recorded for it.")
            : finding.Problem is { } problem
                ? ("malformed", $"The {name} message is malformed: {problem}. Nothing was recorded.")
                : Find<JsonException>(context.Exception) is { } json
                    ? ("malformed", $"The {name} message could not be read: {json.Message} Nothing was recorded.")
                    : ("internal-error", $"The ingest service failed on this {name} message ({Innermost(context.Exception)}); it waits in the _error queue. Please report it.");
        context.ExceptionHeaders.Set(ReasonHeader, reason);
        if (string.IsNullOrWhiteSpace(finding.ReplyTo))
        {
            IngestMetrics.Unanswerable(kind);
            return;
        }

        var rejection = WireCheck.Rejection(kind, finding, code, reason);
        IngestMetrics.Answered(rejection);
        var endpoint = await context.SendEndpointProvider.GetSendEndpoint(new Uri($"queue:{finding.ReplyTo}"));
        await endpoint.Send(rejection, CancellationToken.None);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("vault-fault-answer");

    private static WireFinding FromHeaders(Headers headers) =>
        new(null, null, headers.Get<string>(SegmentWireFormat.ReplyToHeader), headers.Get<string>(SegmentWireFormat.SetIdHeader),
            long.TryParse(headers.Get<string>(SegmentWireFormat.SequenceHeader), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var s) ? s : null, null);

    private static T? Find<T>(Exception? ex) where T : Exception
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is T found)
                return found;
        }

        return null;
    }

    private static string Innermost(Exception ex)
    {
        while (ex.InnerException is not null)
            ex = ex.InnerException;
        return $"{ex.GetType().Name}: {ex.Message.TrimEnd('.')}";
    }
}

/// <summary>
/// Before a JSON message reaches its consumer: an empty body binds to a contract of defaults (no replyTo, nothing to
/// answer), so it would be consumed without a trace. It is refused here and goes to _error with its reason.
/// </summary>
public sealed class EmptyBodyFilter(WireKind kind) : IFilter<ConsumeContext>
{
    public Task Send(ConsumeContext context, IPipe<ConsumeContext> next) =>
        context.ReceiveContext.ContentType?.MediaType != SegmentWireFormat.MediaType && context.ReceiveContext.Body.GetBytes().Length == 0
            ? throw new UnreadableMessageException($"Unreadable {kind.ToString().ToLowerInvariant()} message: the body is empty: a message is one JSON object (docs/wire-format.md). Nothing was recorded.")
            : next.Send(context);

    public void Probe(ProbeContext context) => context.CreateFilterScope("vault-empty-body");
}
