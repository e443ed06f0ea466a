namespace Vault.Ops;

public static class Sentences
{
    /// <summary>An ArgumentException's message for people: without the " (Parameter 'x')" .NET appends.</summary>
    public static string Sentence(this ArgumentException ex) =>
        ex.ParamName is { } name ? ex.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal) : ex.Message;
}
