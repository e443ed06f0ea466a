using System.Text;
using Vault.Core.Log;

namespace Vault.Core.Tests.Log;

public sealed class ChainVerifierTests
{
    private static List<EventRecord> Chain(int count) =>
        BatchSealer.Seal(LogHead.Empty,
            [new AppendRequest("s", ExpectedVersion.Any, Enumerable.Range(0, count).Select(i => new EventData("T", Encoding.UTF8.GetBytes($"{{\"i\":{i}}}"))).ToArray())],
            new Dictionary<string, long>(), DateTimeOffset.UnixEpoch).Records.ToList();

    private static ChainViolation? FirstViolation(IEnumerable<EventRecord> records, LogHead? start = null)
    {
        var verifier = new ChainVerifier(start);
        return records.Select(verifier.Check).FirstOrDefault(v => v is not null);
    }

    [Fact]
    public void an_intact_chain_has_no_violation_and_ends_at_its_head()
    {
        var chain = Chain(50);
        var verifier = new ChainVerifier();

        Assert.All(chain, r => Assert.Null(verifier.Check(r)));
        Assert.Equal(new LogHead(50, chain[^1].Hash), verifier.Head);
        Assert.Equal(50, verifier.Checked);
    }

    [Fact]
    public void a_changed_field_is_altered_at_its_position()
    {
        var chain = Chain(10);
        chain[4] = chain[4] with { EventType = "Forged" };

        Assert.Equal((5L, ViolationKind.Altered), (FirstViolation(chain)!.Position, FirstViolation(chain)!.Kind));
    }

    [Fact]
    public void a_gap_is_missing_at_the_first_absent_position()
    {
        var chain = Chain(10);
        chain.RemoveRange(3, 2);

        var violation = FirstViolation(chain)!;
        Assert.Equal((4L, ViolationKind.Missing), (violation.Position, violation.Kind));
        Assert.Contains("records 4 to 5", violation.Detail);
    }

    [Fact]
    public void a_record_rehashed_in_place_breaks_the_link_of_its_successor()
    {
        var chain = Chain(10);
        var forged = chain[4] with { Payload = "{}"u8.ToArray() };
        chain[4] = forged with { Hash = ChainHash.Compute(forged) };

        Assert.Equal((6L, ViolationKind.BrokenLink), (FirstViolation(chain)!.Position, FirstViolation(chain)!.Kind));
    }

    [Fact]
    public void verification_can_start_from_a_trusted_position_and_hash()
    {
        var chain = Chain(10);

        Assert.Null(FirstViolation(chain.Skip(6), new LogHead(6, chain[5].Hash)));
        Assert.Equal(ViolationKind.BrokenLink, FirstViolation(chain.Skip(6), new LogHead(6, chain[4].Hash))!.Kind);
    }

    [Fact]
    public void a_trusted_head_beyond_the_end_reports_the_first_missing_position()
    {
        var chain = Chain(10);
        var verifier = new ChainVerifier();
        foreach (var r in chain.Take(8))
            verifier.Check(r);

        var violation = verifier.CheckReaches(new LogHead(10, chain[9].Hash), null)!;

        Assert.Equal((9L, ViolationKind.Missing), (violation.Position, violation.Kind));
    }
}
