using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rotation.Core;

public enum BackupKind
{
    /// <summary>The sets sealed since the chain's last write, and only the segments the chain does not hold yet.</summary>
    Incremental,

    /// <summary>Self-contained: every segment of the sets written, so the medium restores them alone.</summary>
    Full,
}

/// <summary>
/// A place media live: the primary site with the drive, or an off-site vault a courier reaches in some days. Its
/// images are kept by a custodian service at <see cref="Url"/> (docs/sites.md: its own account, storage and clock;
/// the primary holds only <see cref="CredentialFile"/>, a token that can deposit and read back), or, for a site
/// without one, in <see cref="Root"/> (a mount at that place); by default sites/NAME in the vault.
/// </summary>
public sealed record SiteDefinition(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("offsite")] bool Offsite,
    [property: JsonPropertyName("courierDays")] int CourierDays = 0,
    [property: JsonPropertyName("root")] string? Root = null,
    [property: JsonPropertyName("url"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Url = null,
    [property: JsonPropertyName("credentialFile"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? CredentialFile = null)
{
    /// <summary>Is this site kept by a custodian service (not a directory the primary writes)?</summary>
    [JsonIgnore]
    public bool HasCustodian => Url is not null;
}

/// <summary>When a pool is written: on these days of the week, optionally only the first such day of the month.</summary>
public sealed record Schedule(
    [property: JsonPropertyName("days")] IReadOnlyList<DayOfWeek> Days,
    [property: JsonPropertyName("firstOfMonth")] bool FirstOfMonth = false)
{
    public bool Matches(DateOnly date) => Days.Contains(date.DayOfWeek) && (!FirstOfMonth || date.Day <= 7);
}

/// <summary>
/// One media pool: its label prefix, when it is written and how (incremental or full), how long what it holds is
/// kept, at which site, and its media (how many to label at first, their capacity and how many passes they last).
/// </summary>
public sealed record PoolDefinition(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("prefix")] string Prefix,
    [property: JsonPropertyName("schedule")] Schedule Schedule,
    [property: JsonPropertyName("backup")] BackupKind Backup,
    [property: JsonPropertyName("keepDays")] int KeepDays,
    [property: JsonPropertyName("site")] string Site,
    [property: JsonPropertyName("media")] int Media,
    [property: JsonPropertyName("capacityBytes")] long CapacityBytes,
    [property: JsonPropertyName("maxPasses")] int MaxPasses);

/// <summary>
/// The rotation policy the operator edits (rotation.json in the vault directory). The default is grandfather-father-son:
/// daily incrementals Monday to Saturday kept 2 weeks on site, weekly fulls on Sunday kept 5 weeks at offsite-a,
/// monthly fulls on the first Sunday kept 12 months at offsite-b.
/// </summary>
public sealed record RotationPolicy(
    [property: JsonPropertyName("format")] string Format,
    [property: JsonPropertyName("driveSite")] string DriveSite,
    [property: JsonPropertyName("sites")] IReadOnlyList<SiteDefinition> Sites,
    [property: JsonPropertyName("pools")] IReadOnlyList<PoolDefinition> Pools,
    [property: JsonPropertyName("maxDaysWithoutFull")] int MaxDaysWithoutFull = 8,
    [property: JsonPropertyName("transitOverdueDays")] int TransitOverdueDays = 2,
    [property: JsonPropertyName("protectAfterDays")] int ProtectAfterDays = 8)
{
    public const string CurrentFormat = "vault-rotation-policy/v1";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    private static readonly DayOfWeek[] MondayToSaturday = [DayOfWeek.Monday, DayOfWeek.Tuesday, DayOfWeek.Wednesday, DayOfWeek.Thursday, DayOfWeek.Friday, DayOfWeek.Saturday];

    public static RotationPolicy Default(long capacityBytes = 4L << 30) => new(
        CurrentFormat,
        "primary",
        [new SiteDefinition("primary", false), new SiteDefinition("offsite-a", true, 1), new SiteDefinition("offsite-b", true, 2)],
        [
            new PoolDefinition("daily", "D", new Schedule(MondayToSaturday), BackupKind.Incremental, 14, "primary", 20, capacityBytes, 100),
            new PoolDefinition("weekly", "W", new Schedule([DayOfWeek.Sunday]), BackupKind.Full, 35, "offsite-a", 8, capacityBytes, 100),
            new PoolDefinition("monthly", "M", new Schedule([DayOfWeek.Sunday], FirstOfMonth: true), BackupKind.Full, 366, "offsite-b", 15, capacityBytes, 100),
        ]);

    public SiteDefinition Site(string name) => Sites.First(s => s.Name == name);

    public PoolDefinition Pool(string name) => Pools.First(p => p.Name == name);

    /// <summary>The longest time any pool keeps what it holds: sets older than this are not expected on media.</summary>
    public int WindowDays => Pools.Max(p => p.KeepDays);

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>
    /// How <paramref name="proposed"/> loosens protection against this policy, one sentence each; empty when it only
    /// tightens or keeps it (then it applies at once). Loosening needs the quorum (docs/rotation.md).
    /// </summary>
    public IReadOnlyList<string> Loosening(RotationPolicy proposed)
    {
        var why = new List<string>();
        foreach (var site in Sites)
        {
            var next = proposed.Sites.FirstOrDefault(s => s.Name == site.Name);
            if (next is null)
                why.Add($"site {site.Name} is dropped");
            else if (site.Offsite && !next.Offsite)
                why.Add($"site {site.Name} is no longer off site");
            else if (site.Url != next.Url || site.Root != next.Root || site.CredentialFile != next.CredentialFile)
                why.Add(site.HasCustodian && !next.HasCustodian
                    ? $"site {site.Name} is no longer kept by its custodian"
                    : $"site {site.Name} changes where its images are kept");
        }

        foreach (var pool in Pools)
        {
            var next = proposed.Pools.FirstOrDefault(p => p.Name == pool.Name);
            if (next is null)
            {
                why.Add($"pool {pool.Name} is dropped");
                continue;
            }

            if (next.KeepDays < pool.KeepDays)
                why.Add($"pool {pool.Name} keeps {next.KeepDays} days instead of {pool.KeepDays}");
            if (pool.Backup == BackupKind.Full && next.Backup != BackupKind.Full)
                why.Add($"pool {pool.Name} no longer writes fulls");
            if (next.Schedule.Days.Count < pool.Schedule.Days.Count || (next.Schedule.FirstOfMonth && !pool.Schedule.FirstOfMonth))
                why.Add($"pool {pool.Name} is written less often");
            if (Sites.FirstOrDefault(s => s.Name == pool.Site)?.Offsite == true && proposed.Sites.FirstOrDefault(s => s.Name == next.Site)?.Offsite != true)
                why.Add($"pool {pool.Name} is no longer kept off site");
        }

        if (proposed.MaxDaysWithoutFull > MaxDaysWithoutFull)
            why.Add($"maxDaysWithoutFull grows from {MaxDaysWithoutFull} to {proposed.MaxDaysWithoutFull}");
        return why;
    }

    /// <summary>Parses and validates a policy; every problem is reported at once, each in one sentence.</summary>
    public static RotationPolicy Parse(string json, string origin)
    {
        RotationPolicy? policy;
        try
        {
            policy = JsonSerializer.Deserialize<RotationPolicy>(json, Json);
        }
        catch (JsonException ex)
        {
            throw new RotationPolicyException(origin, [$"it is not a valid policy document: {ex.Message}"]);
        }

        if (policy is null)
            throw new RotationPolicyException(origin, ["it is empty"]);
        var problems = policy.Problems();
        return problems.Count == 0 ? policy : throw new RotationPolicyException(origin, problems);
    }

    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (Format != CurrentFormat)
            problems.Add($"format is '{Format}', expected '{CurrentFormat}'");
        if (Sites is null || Sites.Count == 0)
            return [.. problems, "no sites are defined"];
        if (Pools is null || Pools.Count == 0)
            return [.. problems, "no pools are defined"];
        foreach (var duplicate in Sites.GroupBy(s => s.Name).Where(g => g.Count() > 1))
            problems.Add($"site '{duplicate.Key}' is defined twice");
        if (Sites.All(s => s.Name != DriveSite))
            problems.Add($"driveSite '{DriveSite}' is not one of the sites ({string.Join(", ", Sites.Select(s => s.Name))})");
        else if (Site(DriveSite).Offsite)
            problems.Add($"driveSite '{DriveSite}' must be the on-site location, not an off-site one");
        if (!Sites.Any(s => s.Offsite))
            problems.Add("no site is off site: a fire at the primary would take every copy");
        foreach (var site in Sites.Where(s => s.Url is not null))
        {
            if (!Uri.TryCreate(site.Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
                problems.Add($"site '{site.Name}': url must be the custodian's http:// or https:// address");
            if (site.Root is not null)
                problems.Add($"site '{site.Name}': a site kept by a custodian (url) has no root on the primary");
            if (site.CredentialFile is null || !Path.IsPathFullyQualified(site.CredentialFile))
                problems.Add($"site '{site.Name}': credentialFile must be the absolute path of the token its custodian issued ('vault site init')");
            if (site.Name == DriveSite)
                problems.Add($"site '{site.Name}': the drive's site is the primary itself and cannot be kept by a custodian");
        }

        foreach (var site in Sites.Where(s => s.Url is null && s.CredentialFile is not null))
            problems.Add($"site '{site.Name}': credentialFile is only for a site with a custodian url");
        foreach (var site in Sites.Where(s => s.Root is not null && !Path.IsPathFullyQualified(s.Root)))
            problems.Add($"site '{site.Name}': root must be an absolute path (a mount at that place), or left out for sites/{site.Name} in the vault");
        foreach (var duplicate in Sites.Where(s => s.Root is not null).GroupBy(s => s.Root).Where(g => g.Count() > 1))
            problems.Add($"sites {string.Join(" and ", duplicate.Select(s => s.Name))} share the root {duplicate.Key}: a fire would take both");
        foreach (var site in Sites.Where(s => s.CourierDays < 0 || (s.Offsite && s.CourierDays == 0)))
            problems.Add($"site '{site.Name}': courierDays must be at least 1 for an off-site location and never negative");
        foreach (var duplicate in Pools.GroupBy(p => p.Name).Where(g => g.Count() > 1))
            problems.Add($"pool '{duplicate.Key}' is defined twice");
        foreach (var duplicate in Pools.GroupBy(p => p.Prefix).Where(g => g.Count() > 1))
            problems.Add($"label prefix '{duplicate.Key}' is used by more than one pool");
        foreach (var pool in Pools)
        {
            var at = $"pool '{pool.Name}'";
            if (string.IsNullOrWhiteSpace(pool.Prefix) || !pool.Prefix.All(char.IsAsciiLetterUpper))
                problems.Add($"{at}: prefix must be upper-case letters, e.g. \"D\"");
            if (pool.Schedule?.Days is not { Count: > 0 })
                problems.Add($"{at}: the schedule names no day");
            if (pool.KeepDays < 1)
                problems.Add($"{at}: keepDays must be at least 1");
            if (Sites.All(s => s.Name != pool.Site))
                problems.Add($"{at}: site '{pool.Site}' is not defined");
            if (pool.Media < 1)
                problems.Add($"{at}: media must be at least 1");
            if (pool.CapacityBytes < TapeLayout.MinimumCapacity)
                problems.Add($"{at}: capacityBytes must be at least {TapeLayout.MinimumCapacity} (one maximum-size segment and its catalog)");
            if (pool.MaxPasses < 1)
                problems.Add($"{at}: maxPasses must be at least 1");
        }

        if (Pools.All(p => p.Backup != BackupKind.Full))
            problems.Add("no pool writes full backups: an incremental chain needs a full to start from");
        if (MaxDaysWithoutFull < 1 || TransitOverdueDays < 0 || ProtectAfterDays < 1)
            problems.Add("maxDaysWithoutFull and protectAfterDays must be at least 1, transitOverdueDays not negative");
        return problems;
    }
}

public sealed class RotationPolicyException(string origin, IReadOnlyList<string> problems)
    : Vault.Core.Errors.VaultException($"The rotation policy in {origin} cannot be used: {string.Join("; ", problems)}. Fix the file and run the command again.")
{
    public override Vault.Core.Errors.FailureKind Kind => Vault.Core.Errors.FailureKind.Configuration;

    public IReadOnlyList<string> Problems { get; } = problems;
}
