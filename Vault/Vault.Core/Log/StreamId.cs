namespace Vault.Core.Log;

/// <summary>The name of a stream in the log: 1 to 200 characters, no control characters.</summary>
public readonly record struct StreamId
{
    public const int MaxLength = 200;

    public StreamId(string value)
    {
        if (string.IsNullOrWhiteSpace(value))
            throw new ArgumentException("A stream id cannot be blank.", nameof(value));
        if (value.Length > MaxLength)
            throw new ArgumentException($"A stream id is at most {MaxLength} characters; got {value.Length}.", nameof(value));
        if (value.Any(char.IsControl))
            throw new ArgumentException("A stream id cannot contain control characters.", nameof(value));
        Value = value;
    }

    public string Value { get; }

    public static implicit operator StreamId(string value) => new(value);

    public override string ToString() => Value;
}
