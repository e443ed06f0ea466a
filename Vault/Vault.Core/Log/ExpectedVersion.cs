namespace Vault.Core.Log;

/// <summary>
/// What an appender believes about a stream before appending: anything, that it does not exist,
/// or that its last event has exactly this version (versions start at 0).
/// </summary>
public readonly record struct ExpectedVersion
{
    private const long AnyValue = -2;
    private const long NoStreamValue = -1;

    private ExpectedVersion(long value) => Value = value;

    /// <summary>-2 for any, -1 for no stream, otherwise the exact version of the stream's last event.</summary>
    public long Value { get; }

    public static ExpectedVersion Any { get; } = new(AnyValue);
    public static ExpectedVersion NoStream { get; } = new(NoStreamValue);

    public static ExpectedVersion Exactly(long version) =>
        version >= 0 ? new(version) : throw new ArgumentOutOfRangeException(nameof(version), version, "A stream version is 0 or more.");

    public bool IsSatisfiedBy(long currentVersion) => Value switch
    {
        AnyValue => true,
        _ => Value == currentVersion,
    };

    public override string ToString() => Value switch
    {
        AnyValue => "any",
        NoStreamValue => "no stream",
        _ => Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
