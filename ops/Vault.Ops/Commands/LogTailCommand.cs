using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Vault.Core.Log;

namespace Vault.Ops.Commands;

/// <summary>vault log tail: the last records of the log.</summary>
public static class LogTailCommand
{
    private static readonly Option<int> Count = new("--count", "-n")
    {
        Description = "How many records, counting back from the newest.",
        DefaultValueFactory = _ => 20,
        HelpName = "N",
    };

    public static Command Create(CliContext context)
    {
        Count.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 100_000)
                r.AddError("--count must be between 1 and 100000.");
        });
        var command = new Command("tail", """
            Show the newest records of the log: position, time, stream, version, type, payload and hash.

            Examples:
              vault log tail --vault /srv/vault
              vault log tail -n 100 --json | jq '.[].eventType'
            """)
        {
            Count,
        };
        command.SetAction((parse, ct) => RunAsync(parse, context, ct));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, CliContext context, CancellationToken cancellationToken)
    {
        var (_, log) = await VaultOpener.OpenAsync(GlobalOptions.VaultDirectory(parse, context), GlobalOptions.PostgresConnection(parse, context), context.Clock, cancellationToken);
        await using (log)
        {
            var head = await log.ReadHeadAsync(cancellationToken);
            var records = new List<EventRecord>();
            await foreach (var r in log.ReadAllAsync(Math.Max(1, head.Position - parse.GetValue(Count) + 1), cancellationToken))
            {
                if (r.Position > head.Position)
                    break;
                records.Add(r);
            }

            if (parse.GetValue(GlobalOptions.Json))
            {
                context.WriteJson(records.Select(r => new
                {
                    r.Position,
                    r.StreamId,
                    r.StreamVersion,
                    r.EventType,
                    r.RecordedAt,
                    payload = AsJson(r.Payload),
                    metadata = AsJson(r.Metadata),
                    previousHash = Convert.ToHexStringLower(r.PreviousHash),
                    hash = Convert.ToHexStringLower(r.Hash),
                }));
                return ExitCodes.Ok;
            }

            context.Output.WriteLine($"{"POSITION",10}  {"RECORDED AT (UTC)",-23}  {"STREAM",-24} {"VER",5}  {"TYPE",-24} {"HASH",-16}  PAYLOAD");
            foreach (var r in records)
            {
                context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{r.Position,10}  {r.RecordedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss.fff}  {Clip(r.StreamId, 24),-24} {r.StreamVersion,5}  {Clip(r.EventType, 24),-24} {VaultOpener.ShortHash(r.Hash)}  {Clip(Encoding.UTF8.GetString(r.Payload), 60)}"));
            }

            context.Output.WriteLine($"head {head.Position}:{head.HashHex}");
            return ExitCodes.Ok;
        }
    }

    private static JsonElement? AsJson(byte[] bytes)
    {
        if (bytes.Length == 0)
            return null;
        try
        {
            return JsonDocument.Parse(bytes).RootElement.Clone();
        }
        catch (JsonException)
        {
            return JsonSerializer.SerializeToElement(new { base64 = Convert.ToBase64String(bytes) });
        }
    }

    private static string Clip(string text, int width) => text.Length <= width ? text : text[..(width - 1)] + "…";
}
