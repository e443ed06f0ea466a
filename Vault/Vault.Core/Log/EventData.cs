namespace Vault.Core.Log;

/// <summary>An event to append: a stable type name, its JSON payload and JSON metadata, as bytes that are stored and hashed verbatim.</summary>
public sealed record EventData
{
    public const int MaxTypeLength = 200;

    public EventData(string eventType, byte[] payload, byte[]? metadata = null)
    {
        if (string.IsNullOrWhiteSpace(eventType))
            throw new ArgumentException("An event type cannot be blank.", nameof(eventType));
        if (eventType.Length > MaxTypeLength)
            throw new ArgumentException($"An event type is at most {MaxTypeLength} characters.", nameof(eventType));
        ArgumentNullException.ThrowIfNull(payload);
        EventType = eventType;
        Payload = payload;
        Metadata = metadata ?? [];
    }

    public string EventType { get; }
    public byte[] Payload { get; }
    public byte[] Metadata { get; }
}
