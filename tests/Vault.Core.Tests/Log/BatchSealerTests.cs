using System.Text;
using Vault.Core.Errors;
using Vault.Core.Log;

namespace Vault.Core.Tests.Log;

public sealed class BatchSealerTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 9, 0, 0, TimeSpan.Zero);

    private static AppendRequest Request(string stream, ExpectedVersion expected, int events = 1) =>
        new(stream, expected, Enumerable.Range(0, events).Select(i => new EventData("T", Encoding.UTF8.GetBytes($"{i}"))).ToArray());

    [Fact]
    public void a_refused_request_does_not_stop_the_others_in_its_batch()
    {
        var requests = new[] { Request("a", ExpectedVersion.NoStream, 2), Request("b", ExpectedVersion.Exactly(4)), Request("c", ExpectedVersion.Any) };

        var sealedBatch = BatchSealer.Seal(LogHead.Empty, requests, new Dictionary<string, long> { ["b"] = 7 }, Now);

        Assert.Equal(new AppendResult(1, 2, 1), sealedBatch.Outcomes[0].Result);
        var refused = Assert.IsType<WrongExpectedVersionException>(sealedBatch.Outcomes[1].Error);
        Assert.Equal(7, refused.Actual);
        Assert.Equal(new AppendResult(3, 3, 0), sealedBatch.Outcomes[2].Result);
        Assert.Equal(["a", "a", "c"], sealedBatch.Records.Select(r => r.StreamId));
        Assert.Equal(new LogHead(3, sealedBatch.Records[^1].Hash), sealedBatch.NewHead);
    }

    [Fact]
    public void requests_on_one_stream_in_one_batch_see_each_other_so_only_one_of_two_rivals_wins()
    {
        var requests = new[] { Request("a", ExpectedVersion.Exactly(0)), Request("a", ExpectedVersion.Exactly(0)), Request("a", ExpectedVersion.Exactly(1)) };

        var sealedBatch = BatchSealer.Seal(new LogHead(10, new byte[32]), requests, new Dictionary<string, long> { ["a"] = 0 }, Now);

        Assert.NotNull(sealedBatch.Outcomes[0].Result);
        Assert.IsType<WrongExpectedVersionException>(sealedBatch.Outcomes[1].Error);
        Assert.Equal(new AppendResult(12, 12, 2), sealedBatch.Outcomes[2].Result);
    }

    [Fact]
    public void sealed_records_continue_the_chain_from_the_head()
    {
        var head = new LogHead(41, Enumerable.Repeat((byte)7, 32).ToArray());

        var records = BatchSealer.Seal(head, [Request("a", ExpectedVersion.Any, 3)], new Dictionary<string, long>(), Now).Records;

        Assert.Equal(head.Hash, records[0].PreviousHash);
        Assert.Equal([42L, 43, 44], records.Select(r => r.Position));
        var verifier = new ChainVerifier(head);
        Assert.All(records, r => Assert.Null(verifier.Check(r)));
    }
}
