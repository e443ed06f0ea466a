namespace Vault.Ops.Tests;

/// <summary>Tables never cut a cell, draw ASCII borders when the output is not a terminal, and stay plain (and fast) when long.</summary>
public sealed class TablesTests
{
    private static (CliContext Context, StringWriter Output) Context(bool terminal = false)
    {
        var output = new StringWriter();
        return (new CliContext(output, TextWriter.Null, TimeProvider.System, _ => null) { IsOutputTerminal = terminal }, output);
    }

    [Fact]
    public void a_long_id_is_written_whole_on_one_line()
    {
        var id = "web-1.example.com-nightly-" + new string('x', 150);
        var (context, output) = Context();

        Tables.Write(context, ["SET", "STATE"], [[id, "sealed"], ["short", "INCOMPLETE"]], "(none)");

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines, l => l.Contains(id, StringComparison.Ordinal) && l.Contains("sealed", StringComparison.Ordinal));
        Assert.All(lines, l => Assert.True(l.TrimEnd('\r').All(c => c < 128), $"not ASCII for a file or a pipe: {l}"));
        Assert.Equal(lines[0].TrimEnd('\r').Length, lines[^1].TrimEnd('\r').Length);
    }

    [Fact]
    public void an_empty_table_says_so_and_a_long_one_is_plain_columns()
    {
        var (context, output) = Context(terminal: true);
        Tables.Write(context, ["SET"], [], "(no sets yet)");
        Assert.Equal("(no sets yet)", output.ToString().Trim());

        var (big, bigOutput) = Context(terminal: true);
        Tables.Write(big, ["SET", "FILES"], [.. Enumerable.Range(0, Tables.DrawnRowLimit + 1).Select(i => new[] { $"set-{i}", i.ToString() })], "(none)", 1);
        var lines = bigOutput.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Tables.DrawnRowLimit + 2, lines.Length);
        Assert.StartsWith("SET", lines[0]);
        Assert.EndsWith(" 2000", lines[^1].TrimEnd('\r'));
    }
}
