namespace Vault.Core.Sets;

/// <summary>
/// What makes a manifest restorable without writing outside its target, checked at seal (a manifest that breaks a
/// rule is refused as malformed, so it never becomes a backup) and again at restore (a manifest is producer input,
/// whoever sealed it): every path relative, normalised ("a/b", no "", ".", "..", no leading or trailing "/", no NUL
/// or backslash), named once, and nothing beneath a symlink or a file entry. Restore then creates symlinks last, so
/// nothing is ever written through a link the restore made.
/// </summary>
public static class ManifestRules
{
    public const int MaxPathLength = 4096;

    /// <summary>The first entry that breaks a rule, as a sentence naming it; null when the manifest is restorable.</summary>
    public static string? Problem(Manifest manifest)
    {
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in manifest.Entries)
        {
            if (entry is null)
                return "the manifest has an empty entry";
            var name = Quote(entry.Path);
            if (PathProblem(entry.Path) is { } bad)
                return $"entry {name}: {bad}";
            if (entry.Type is not ("file" or "dir" or "symlink" or "stream"))
                return $"entry {name} has type {Quote(entry.Type)}; a manifest entry is a file, dir, symlink or stream";
            if (entry.Type == "stream" && manifest.Kind != "stream")
                return $"entry {name} is a stream in a tree manifest";
            if (entry.Type == "symlink" && string.IsNullOrEmpty(entry.Target))
                return $"entry {name} is a symlink without a target";
            if (entry.Size < 0)
                return $"entry {name} has a negative size";
            if (!types.TryAdd(entry.Path, entry.Type))
                return $"entry {name} is named twice";
        }

        foreach (var (path, _) in types)
        {
            for (var slash = path.IndexOf('/', StringComparison.Ordinal); slash > 0; slash = path.IndexOf('/', slash + 1))
            {
                if (types.TryGetValue(path[..slash], out var parent) && parent != "dir")
                    return $"entry {Quote(path)} lies beneath {Quote(path[..slash])}, which is a {parent}: a restore would write through it";
            }
        }

        return null;
    }

    private static string? PathProblem(string? path)
    {
        if (string.IsNullOrEmpty(path))
            return "the path is empty";
        if (path.Length > MaxPathLength)
            return $"the path is over {MaxPathLength} characters";
        if (path[0] == '/')
            return "the path is absolute; manifest paths are relative to the restore directory";
        if (path.Contains('\0', StringComparison.Ordinal) || path.Contains('\\', StringComparison.Ordinal))
            return "the path holds a NUL or a backslash";
        foreach (var part in path.Split('/'))
        {
            if (part is "" or "." or "..")
                return part == ".." ? "the path climbs out with '..'" : "the path is not normalised (an empty or '.' component)";
        }

        return null;
    }

    private static string Quote(string? text) => text is null ? "(none)" : "'" + (text.Length > 200 ? text[..200] + "…" : text) + "'";
}
