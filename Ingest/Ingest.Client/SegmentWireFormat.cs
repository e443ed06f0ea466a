using System.Globalization;
using System.Net.Mime;
using System.Text.Json;
using Ingest.Contracts;
using MassTransit;
using MassTransit.Serialization;

namespace Ingest.Client;

/// <summary>
/// The binary form of a segment message (docs/wire-format.md): content type <see cref="MediaType"/>, the segment's
/// bytes as the message body exactly as they are (no base64, no JSON), and the other fields as AMQP headers. A
/// segment as JSON (content type application/json) is still accepted; this form saves the base64 and JSON work on
/// both ends and a quarter of the bytes through the broker.
/// </summary>
public sealed class SegmentWireFormat : ISerializerFactory, IMessageSerializer, IMessageDeserializer
{
    public const string MediaType = "application/vnd.vault.segment";
    public const string SetIdHeader = "vault-set-id";
    public const string SequenceHeader = "vault-sequence";
    public const string Sha256Header = "vault-sha256";
    public const string LengthHeader = "vault-length";
    public const string EncodingHeader = "vault-encoding";
    public const string ReplyToHeader = "vault-reply-to";

    public static readonly ContentType SegmentContentType = new(MediaType);
    private static readonly string[] MessageTypes = [MessageUrn.ForTypeString<PutSegment>()];

    public ContentType ContentType => SegmentContentType;

    public IMessageSerializer CreateSerializer() => this;

    public IMessageDeserializer CreateDeserializer() => this;

    public void Probe(ProbeContext context) => context.CreateScope("vault-segment").Add("contentType", MediaType);

    public MessageBody GetMessageBody<T>(SendContext<T> context)
        where T : class
    {
        if (context.Message is not PutSegment segment)
            throw new InvalidOperationException($"{MediaType} carries segments only, not {typeof(T).Name}.");
        context.Headers.Set(SetIdHeader, segment.SetId);
        context.Headers.Set(SequenceHeader, segment.Sequence.ToString(CultureInfo.InvariantCulture));
        context.Headers.Set(Sha256Header, segment.Sha256);
        context.Headers.Set(LengthHeader, segment.Length.ToString(CultureInfo.InvariantCulture));
        context.Headers.Set(EncodingHeader, segment.Encoding);
        context.Headers.Set(ReplyToHeader, segment.ReplyTo);
        return new BytesMessageBody(segment.Data?.ToArray() ?? []); // a copy: the bus may hold the body after the send
    }

    public ConsumeContext Deserialize(ReceiveContext receiveContext) =>
        new BodyConsumeContext(receiveContext, Deserialize(receiveContext.Body, receiveContext.TransportHeaders, receiveContext.InputAddress));

    public SerializerContext Deserialize(MessageBody body, Headers headers, Uri? destinationAddress = null)
    {
        // Missing or malformed headers become the same empty fields a JSON message without them would have: the
        // handler then rejects the segment naming the field, exactly as for JSON.
        var segment = new PutSegment
        {
            SetId = Text(headers, SetIdHeader) ?? "",
            Sequence = long.TryParse(Text(headers, SequenceHeader), NumberStyles.Integer, CultureInfo.InvariantCulture, out var sequence) ? sequence : -1,
            Sha256 = Text(headers, Sha256Header) ?? "",
            Length = long.TryParse(Text(headers, LengthHeader), NumberStyles.Integer, CultureInfo.InvariantCulture, out var length) ? length : -1,
            Encoding = Text(headers, EncodingHeader) ?? "",
            ReplyTo = Text(headers, ReplyToHeader) ?? "",
            Data = BytesOf(body) is { Length: > 0 } bytes ? (ReadOnlyMemory<byte>?)bytes : null, // no segment is empty: an empty body is missing data
        };
        return new Context(segment, new RawMessageContext(headers, destinationAddress, RawSerializerOptions.AnyMessageType));
    }

    /// <summary>
    /// The body's bytes. A delivery from RabbitMQ (<see cref="MemoryMessageBody"/>) is lent, not copied: it is
    /// RabbitMQ.Client's buffer for the delivery, valid until the delivery's handling ends, and MassTransit's RabbitMQ
    /// consumer awaits the whole receive pipe (retries, the consumer, the move to _error) inside it; the handler is
    /// done with a segment's bytes when it answers (stored and synced, or refused). <c>GetBytes()</c> copied every
    /// segment into a fresh array: 4% of the service's CPU samples, plus its zeroing and page faults
    /// (docs/benchmarks.md). Other bodies (the in-memory transport's array) are taken as they are.
    /// </summary>
    private static ReadOnlyMemory<byte> BytesOf(MessageBody body) => body is MemoryMessageBody lent ? LentBytes(lent) : body.GetBytes();

    /// <summary>MassTransit keeps the delivery's memory in a private field (MassTransit 8.5.12, pinned); a rename fails every RabbitMQ test with MissingFieldException.</summary>
    [System.Runtime.CompilerServices.UnsafeAccessor(System.Runtime.CompilerServices.UnsafeAccessorKind.Field, Name = "_memory")]
    private static extern ref ReadOnlyMemory<byte> LentBytes(MemoryMessageBody body);

    public MessageBody GetMessageBody(string text) => new StringMessageBody(text);

    private static string? Text(Headers headers, string key) => headers.Get<string>(key);

    /// <summary>Hands the segment to the consumer; anything else this context is asked for comes from the JSON machinery of MassTransit.</summary>
    private sealed class Context(PutSegment segment, MessageContext messageContext)
        : SystemTextJsonRawSerializerContext(SystemTextJsonMessageSerializer.Instance, SystemTextJsonMessageSerializer.Options, SegmentContentType,
            messageContext, MessageTypes, RawSerializerOptions.AnyMessageType, Empty)
    {
        private static readonly JsonElement Empty = JsonDocument.Parse("{}").RootElement;

        public override bool TryGetMessage<T>(out T? message)
            where T : class
        {
            if (segment is T typed)
            {
                message = typed;
                return true;
            }

            message = null;
            return false;
        }

        public override bool TryGetMessage(Type messageType, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out object? message)
        {
            message = messageType.IsInstanceOfType(segment) ? segment : null;
            return message is not null;
        }
    }
}
