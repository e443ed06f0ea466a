using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Vault.Ops.Tests;

/// <summary>docs/log-format.md lists every event type the vault writes, with every field of its payload.</summary>
public sealed class LogFormatDocTests
{
    private static string Doc => File.ReadAllText(Path.Combine(RepoRoot(), "docs", "log-format.md"));

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "README.md")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("README.md not found above the test binaries.");
    }

    public static IEnumerable<(string Name, Type Type)> Written() =>
        Vault.Services.EventCodec.Current.Select(p => (p.Key, p.Value))
            .Concat(Rotation.Service.RotationJournal.Current.Select(p => (p.Key, p.Value)))
            .Append((Vault.Core.Vaults.VaultCreated.EventType, typeof(Vault.Core.Vaults.VaultCreated)));

    private static IEnumerable<string> Fields(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetCustomAttribute<JsonIgnoreAttribute>() is not { Condition: JsonIgnoreCondition.Always } && p.GetMethod!.GetParameters().Length == 0 && p.Name != "EqualityContract")
            .Where(p => type.GetConstructors().Any(c => c.GetParameters().Any(a => a.Name == p.Name)))
            .Select(p => p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(p.Name));

    [Fact]
    public void every_event_type_written_is_in_the_list_with_every_field()
    {
        var lines = Doc.Split('\n');
        var missing = new List<string>();
        foreach (var (name, type) in Written())
        {
            var row = lines.FirstOrDefault(l => l.StartsWith($"| `{name}` |", StringComparison.Ordinal));
            var fields = Fields(type).ToArray();
            if (row is null || fields.Any(f => !row.Contains($"`{f}`", StringComparison.Ordinal)))
                missing.Add($"| `{name}` | {string.Join(", ", fields.Select(f => $"`{f}`"))} |");
        }

        Assert.True(missing.Count == 0, "docs/log-format.md lacks these rows or fields:\n" + string.Join("\n", missing));
    }
}
