using System.Globalization;
using Vault.Core.Errors;

namespace Vault.Ops;

/// <summary>Durations on the command line: a number and a unit, e.g. 90m, 72h, 14d, 5w (and seconds, 30s, or milliseconds, 250ms, for drills, tests and polling).</summary>
public static class Durations
{
    public static TimeSpan Parse(string text, string option)
    {
        if (text.EndsWith("ms", StringComparison.Ordinal) && long.TryParse(text[..^2], NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms > 0)
            return TimeSpan.FromMilliseconds(ms);
        if (text.Length >= 2 && long.TryParse(text[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0)
        {
            switch (text[^1])
            {
                case 's': return TimeSpan.FromSeconds(n);
                case 'm': return TimeSpan.FromMinutes(n);
                case 'h': return TimeSpan.FromHours(n);
                case 'd': return TimeSpan.FromDays(n);
                case 'w': return TimeSpan.FromDays(7 * n);
            }
        }

        throw new VaultConfigurationException($"{option} takes a duration such as 90m, 72h, 14d or 5w; got '{text}'.");
    }

    public static string Format(TimeSpan span) =>
        span.TotalDays >= 1 && span.Hours == 0 && span.Minutes == 0 ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalDays:0.#}d")
        : span < TimeSpan.FromMinutes(1) ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0}s")
        : span < TimeSpan.FromHours(1) ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalMinutes:0.#}m")
        : string.Create(CultureInfo.InvariantCulture, $"{span.TotalHours:0.#}h");
}
