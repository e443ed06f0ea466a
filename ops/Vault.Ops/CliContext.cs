using System.Text.Json;

namespace Vault.Ops;

/// <summary>What every command gets: where to write, the clock, the environment, and whether to answer in JSON.</summary>
public sealed class CliContext(TextWriter output, TextWriter error, TimeProvider clock, Func<string, string?> environment)
{
    public static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public TextWriter Output { get; } = output;
    public TextWriter Error { get; } = error;
    public TimeProvider Clock { get; } = clock;
    public Func<string, string?> Environment { get; } = environment;

    /// <summary>Is standard error a terminal? Progress that rewrites one line is drawn only then; otherwise plain lines, or nothing.</summary>
    public bool IsErrorTerminal { get; init; }

    /// <summary>Is standard output a terminal? Tables get rounded borders and a bold header only then.</summary>
    public bool IsOutputTerminal { get; init; }

    public void WriteJson(object value) => Output.WriteLine(JsonSerializer.Serialize(value, Json));
}
