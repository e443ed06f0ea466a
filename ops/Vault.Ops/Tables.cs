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

    /// <summary>
    /// Plain aligned columns written straight into a 1 MiB buffer: cells are copied or formatted in place (no string
    /// per cell), for listings far beyond <see cref="DrawnRowLimit"/>. The caller gives the column widths.
    /// </summary>
    public sealed class Plain(TextWriter output, int[] widths, params int[] rightAligned)
    {
        private readonly char[] _buffer = new char[1 << 20];
        private int _used;
        private int _column;

        public void Cell(ReadOnlySpan<char> text)
        {
            if (_column > 0)
                Put("  ");
            var pad = widths[_column] - text.Length;
            if (Array.IndexOf(rightAligned, _column) >= 0)
                Pad(pad);
            Put(text);
            if (Array.IndexOf(rightAligned, _column) < 0 && _column < widths.Length - 1)
                Pad(pad);
            _column++;
        }

        public void Cell<T>(T value, string format) where T : ISpanFormattable
        {
            Span<char> text = stackalloc char[64];
            if (!value.TryFormat(text, out var written, format, System.Globalization.CultureInfo.InvariantCulture))
                throw new FormatException($"{value} does not fit a cell");
            Cell(text[..written]);
        }

        public void EndRow()
        {
            Put("\n");
            _column = 0;
            if (_used > _buffer.Length - 8192)
                Flush();
        }

        public void Flush()
        {
            output.Write(_buffer, 0, _used);
            _used = 0;
        }

        private void Pad(int count)
        {
            for (var i = 0; i < count; i++)
                Put(" ");
        }

        private void Put(ReadOnlySpan<char> text)
        {
            if (_used + text.Length > _buffer.Length)
                Flush();
            if (text.Length > _buffer.Length)
            {
                output.Write(text);
                return;
            }

            text.CopyTo(_buffer.AsSpan(_used));
            _used += text.Length;
        }
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
