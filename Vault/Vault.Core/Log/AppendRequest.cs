namespace Vault.Core.Log;

/// <summary>One caller's append: events for one stream, under an expected version.</summary>
public sealed record AppendRequest
{
    public AppendRequest(StreamId stream, ExpectedVersion expected, IReadOnlyList<EventData> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
            throw new ArgumentException("An append needs at least one event.", nameof(events));
        Stream = stream;
        Expected = expected;
        Events = events;
    }

    public StreamId Stream { get; }
    public ExpectedVersion Expected { get; }
    public IReadOnlyList<EventData> Events { get; }
}
