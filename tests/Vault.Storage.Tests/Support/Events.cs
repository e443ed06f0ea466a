using System.Text;
using Vault.Core.Log;

namespace Vault.Storage.Tests.Support;

public static class Events
{
    public static EventData Make(string type = "TestHappened", string? body = null) =>
        new(type, Encoding.UTF8.GetBytes($$"""{"body":"{{body ?? Guid.NewGuid().ToString()}}"}"""), """{"actor":"test"}"""u8.ToArray());

    public static EventData[] Many(int count) => Enumerable.Range(0, count).Select(i => Make(body: $"event {i}")).ToArray();

    public static async Task<List<EventRecord>> ToListAsync(this IAsyncEnumerable<EventRecord> records)
    {
        var list = new List<EventRecord>();
        await foreach (var r in records)
            list.Add(r);
        return list;
    }
}
