using Vault.Core.Governance;
using Vault.Core.Sets;

namespace Vault.Core.Tests.Governance;

public sealed class RetentionSpecs
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 9, 0, 0, TimeSpan.Zero);
    private readonly Keys _keys = new("alice", "bob");
    private readonly BackupSetState _sealed = BackupSetState.Empty
        .Apply(new SetOpened("s1", "web", "n", "tree", new Dictionary<string, string>(), Now))
        .Apply(new SetSealed("s1", new string('a', 64), 10, 1, 1, 10, Now.AddDays(30), Now));

    private GovernanceContext Context => new(Keys.VaultId, _keys.Rules(2), Now);

    private ExtendRetention Command(DateTimeOffset until, string by = "bob", DateTimeOffset? signedFor = null) =>
        new("s1", until, by, _keys.Sign(by, SignedAction.ExtendRetention, "s1", [RetentionExtended.Target("s1", signedFor ?? until)]));

    [Fact]
    public void one_approver_can_extend_retention_and_the_set_then_keeps_the_later_date()
    {
        var until = Now.AddDays(365);

        var (extended, refusal) = RetentionDecider.Extend(_sealed, Command(until), Context);

        Assert.Null(refusal);
        Assert.Equal(until, _sealed.Apply(extended!).RetainUntil);
    }

    [Fact]
    public void retention_is_never_shortened()
    {
        var (extended, refusal) = RetentionDecider.Extend(_sealed, Command(Now.AddDays(29)), Context);

        Assert.Null(extended);
        Assert.Equal(RefusalCode.RetentionLocked, refusal?.Code);
        var later = _sealed.Apply(new RetentionExtended("s1", Now.AddDays(90), "bob", "", Now));
        Assert.Equal(Now.AddDays(90), later.Apply(new RetentionExtended("s1", Now.AddDays(60), "alice", "", Now)).RetainUntil);
    }

    [Fact]
    public void a_signature_for_another_date_an_unknown_approver_or_an_unsealed_set_is_refused()
    {
        var otherDate = RetentionDecider.Extend(_sealed, Command(Now.AddDays(400), signedFor: Now.AddDays(300)), Context).Refusal;
        var stranger = RetentionDecider.Extend(_sealed, new ExtendRetention("s1", Now.AddDays(400), "mallory", new byte[64]), Context).Refusal;
        var open = RetentionDecider.Extend(BackupSetState.Empty, Command(Now.AddDays(400)), Context).Refusal;

        Assert.Equal(RefusalCode.BadSignature, otherDate?.Code);
        Assert.Equal(RefusalCode.UnknownApprover, stranger?.Code);
        Assert.Equal(RefusalCode.InvalidRequest, open?.Code);
    }
}
