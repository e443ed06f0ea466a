using Rotation.Core;

namespace Rotation.Service;

/// <summary>
/// Where images live: each site is a directory (its "root" in the policy, in production a mount at that place; by
/// default sites/SITE in the vault directory), and media in transit sit in sites/in-transit. An image is LABEL.vtape.
/// </summary>
public sealed class SiteLayout(string vaultDirectory, RotationPolicy policy)
{
    public const string Extension = ".vtape";
    public const string InTransit = "in-transit";

    public string Root { get; } = Path.Combine(vaultDirectory, "sites");

    public RotationPolicy Policy => policy;

    /// <summary>The custodian keeping this site, or null when the site is a directory.</summary>
    public Custodians.SiteDefinitionAccess? CustodianOf(string? site) =>
        site is not null && policy.Sites.FirstOrDefault(s => s.Name == site) is { Url: { } url, CredentialFile: { } credential } definition
            ? new Custodians.SiteDefinitionAccess(definition.Name, new Uri(url), credential)
            : null;

    public string DirectoryOf(string? site) =>
        site is not null && policy.Sites.FirstOrDefault(s => s.Name == site)?.Root is { } mount ? mount : Path.Combine(Root, site ?? InTransit);

    public string ImageOf(string label, string? site) => Path.Combine(DirectoryOf(site), label + Extension);

    public void Create()
    {
        foreach (var site in policy.Sites.Where(s => !s.HasCustodian))
            Directory.CreateDirectory(DirectoryOf(site.Name));
        Directory.CreateDirectory(DirectoryOf(null));
    }

    /// <summary>Every image directory that survives the loss of these sites (and of what is in transit, when <paramref name="lost"/> says so).</summary>
    public IEnumerable<string> SurvivingDirectories((IReadOnlySet<string> Sites, bool Transit) lost) =>
        policy.Sites.Where(s => !lost.Sites.Contains(s.Name) && !s.HasCustodian).Select(s => DirectoryOf(s.Name))
            .Concat(lost.Transit ? [] : [DirectoryOf(null)]).Where(Directory.Exists);

    /// <summary>Finds an image wherever it is (the log says where it should be; a crash may have left it one step behind or ahead).</summary>
    public string? Find(string label) =>
        policy.Sites.Where(s => !s.HasCustodian).Select(s => ImageOf(label, s.Name)).Append(ImageOf(label, null)).FirstOrDefault(File.Exists);
}
