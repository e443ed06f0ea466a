using System.Text;
using Spectre.Console;

namespace Vault.Ops;

/// <summary>
/// Tables as operators expect them: drawn by Spectre.Console, every cell whole (an id is never cut or wrapped: the
/// table is as wide as its widest row), rounded borders and a bold header on a terminal, ASCII borders and no colour
/// when the output goes to a file or a pipe. Scripts read <c>--json</c>, never the table.
/// </summary>
public static class Tables
{
    /// <summary>Beyond this many rows the table is written as plain aligned columns: Spectre measures every cell (100,000 sets would take seconds).</summary>
    public const int DrawnRowLimit = 2_000;

    public static void Write(CliContext context, IReadOnlyList<string> headers, IReadOnlyList<string[]> rows, string empty, params int[] rightAligned)
    {
        if (rows.Count == 0)
        {
            context.Output.WriteLine(empty);
            return;
        }

        var widths = headers.Select(h => h.Length).ToArray();
        foreach (var row in rows)
        {
            for (var i = 0; i < widths.Length; i++)
                widths[i] = Math.Max(widths[i], row[i].Length);
        }

        if (rows.Count > DrawnRowLimit)
        {
            WritePlain(context.Output, headers, rows, widths, rightAligned);
            return;
        }

        var terminal = context.IsOutputTerminal;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(context.Output),
        });
        console.Profile.Width = widths.Sum(w => w + 3) + 1; // cell, a space each side, a border: nothing is wrapped
        var table = new Table { Border = terminal ? TableBorder.Rounded : TableBorder.Ascii };
        for (var i = 0; i < headers.Count; i++)
        {
            var column = new TableColumn(new Text(headers[i], terminal ? new Style(decoration: Decoration.Bold) : Style.Plain)).NoWrap();
            table.AddColumn(rightAligned.Contains(i) ? column.RightAligned() : column);
        }

        foreach (var row in rows)
            table.AddRow(row.Select(cell => new Text(cell)).ToArray());
        console.Write(table);
    }

    private static void WritePlain(TextWriter output, IReadOnlyList<string> headers, IReadOnlyList<string[]> rows, int[] widths, int[] rightAligned)
    {
        // Written in chunks: standard output flushes on every call, and 100,000 lines were 100,000 write calls.
        var text = new StringBuilder(1 << 20);
        void Write(IReadOnlyList<string> cells)
        {
            for (var i = 0; i < cells.Count; i++)
            {
                if (i > 0)
                    text.Append("  ");
                var pad = widths[i] - cells[i].Length;
                if (rightAligned.Contains(i))
                    text.Append(' ', pad).Append(cells[i]);
                else
                    text.Append(cells[i]).Append(' ', i == cells.Count - 1 ? 0 : pad);
            }

            text.Append('\n');
            if (text.Length > 1 << 20)
            {
                output.Write(text);
                text.Clear();
            }
        }

        Write(headers);
        foreach (var row in rows)
            Write(row);
        output.Write(text);
    }
}
