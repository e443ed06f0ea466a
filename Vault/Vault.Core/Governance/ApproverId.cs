using System.Text.RegularExpressions;

namespace Vault.Core.Governance;

/// <summary>An approver's name: 1 to 64 lower-case letters, digits, '.', '_' or '-'.</summary>
public readonly partial record struct ApproverId
{
    public ApproverId(string value)
    {
        if (value is null || !Pattern().IsMatch(value))
            throw new ArgumentException($"'{value}' is not an approver id: use 1 to 64 lower-case letters, digits, '.', '_' or '-'.", nameof(value));
        Value = value;
    }

    public string Value { get; }

    public static implicit operator ApproverId(string value) => new(value);

    public override string ToString() => Value;

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex Pattern();
}
