namespace Vault.Core.Governance;

/// <summary>
/// Who may approve deletions and how many must: M of the registered approvers (M at least 2), a cooling-off delay
/// after quorum, an expiry for requests that never reach quorum, and the minimum retention of every sealed set.
/// </summary>
public sealed record GovernanceRules
{
    public static readonly TimeSpan DefaultCoolingOff = TimeSpan.FromHours(72);
    public static readonly TimeSpan DefaultRequestExpiry = TimeSpan.FromDays(14);
    public static readonly TimeSpan DefaultMinimumRetention = TimeSpan.FromDays(30);

    public GovernanceRules(IReadOnlyList<Approver> approvers, int quorum, TimeSpan? coolingOff = null, TimeSpan? requestExpiry = null, TimeSpan? minimumRetention = null)
    {
        ArgumentNullException.ThrowIfNull(approvers);
        if (quorum < 2)
            throw new ArgumentException($"A quorum of {quorum} would let one credential delete backups; it must be at least 2.", nameof(quorum));
        if (approvers.Count < quorum)
            throw new ArgumentException($"A quorum of {quorum} needs at least {quorum} approvers; {approvers.Count} are named.", nameof(quorum));
        if (approvers.Select(a => a.Id).Distinct().Count() != approvers.Count)
            throw new ArgumentException("Each approver is named once.", nameof(approvers));
        if (approvers.Select(a => a.PublicKeyHex).Distinct().Count() != approvers.Count)
            throw new ArgumentException("Each approver has a key of their own: two approvers share a public key.", nameof(approvers));
        CoolingOff = coolingOff ?? DefaultCoolingOff;
        RequestExpiry = requestExpiry ?? DefaultRequestExpiry;
        MinimumRetention = minimumRetention ?? DefaultMinimumRetention;
        if (CoolingOff <= TimeSpan.Zero || RequestExpiry <= TimeSpan.Zero || MinimumRetention < TimeSpan.Zero)
            throw new ArgumentException("The cooling-off delay and request expiry must be positive, and the minimum retention not negative.");
        Approvers = approvers;
        Quorum = quorum;
    }

    public IReadOnlyList<Approver> Approvers { get; }
    public int Quorum { get; }
    public TimeSpan CoolingOff { get; }
    public TimeSpan RequestExpiry { get; }
    public TimeSpan MinimumRetention { get; }

    public Approver? Find(ApproverId id) => Approvers.FirstOrDefault(a => a.Id == id);
}
