using Microsoft.Extensions.Time.Testing;
using Vault.Core.Errors;
using Vault.Core.Log;
using Vault.Storage.Log;
using Vault.Storage.Tests.Support;

namespace Vault.Storage.Tests.Conformance;

/// <summary>The behaviour every event log backend must have. Bound to each backend in one line (see the classes below).</summary>
public abstract class EventLogConformance<TBinding> : IAsyncLifetime where TBinding : ILogBinding, new()
{
    protected TBinding Binding { get; } = new();
    protected IEventLog Log { get; private set; } = null!;

    public async Task InitializeAsync() => Log = await Binding.OpenAsync();

    public async Task DisposeAsync()
    {
        await Log.DisposeAsync();
        await Binding.DisposeAsync();
    }

    [Fact]
    public async Task appended_events_read_back_with_every_field_in_stream_and_global_order()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 10, 0, 0, 123, 456, TimeSpan.Zero));
        await Log.DisposeAsync();
        Log = await Binding.OpenAsync(clock);
        var first = await Log.AppendAsync("set-a", ExpectedVersion.NoStream, Events.Many(3));
        var second = await Log.AppendAsync("set-b", ExpectedVersion.NoStream, Events.Many(2));
        var third = await Log.AppendAsync("set-a", ExpectedVersion.Exactly(2), Events.Many(1));

        Assert.Equal(new AppendResult(1, 3, 2), first);
        Assert.Equal(new AppendResult(4, 5, 1), second);
        Assert.Equal(new AppendResult(6, 6, 3), third);
        var stream = await Log.ReadStreamAsync("set-a").ToListAsync();
        Assert.Equal([0L, 1, 2, 3], stream.Select(r => r.StreamVersion));
        Assert.Equal([1L, 2, 3, 6], stream.Select(r => r.Position));
        Assert.Equal("event 0", System.Text.Json.JsonDocument.Parse(stream[0].Payload).RootElement.GetProperty("body").GetString());
        Assert.Equal("""{"actor":"test"}""", System.Text.Encoding.UTF8.GetString(stream[0].Metadata));
        Assert.Equal(clock.GetUtcNow(), stream[0].RecordedAt);
        var all = await Log.ReadAllAsync().ToListAsync();
        Assert.Equal([1L, 2, 3, 4, 5, 6], all.Select(r => r.Position));
        Assert.Equal(ChainHash.Genesis, all[0].PreviousHash);
        for (var i = 1; i < all.Count; i++)
            Assert.Equal(all[i - 1].Hash, all[i].PreviousHash);
        Assert.All(all, r => Assert.Equal(ChainHash.Compute(r), r.Hash));
        Assert.Equal(new LogHead(6, all[^1].Hash), await Log.ReadHeadAsync());
        Assert.Equal([2L, 3], (await Log.ReadStreamAsync("set-a", fromVersion: 2).ToListAsync()).Select(r => r.StreamVersion));
        Assert.Equal([5L, 6], (await Log.ReadAllAsync(fromPosition: 5).ToListAsync()).Select(r => r.Position));
    }

    [Fact]
    public async Task an_append_under_a_wrong_expected_version_is_refused_naming_both_versions_and_appends_nothing()
    {
        await Log.AppendAsync("set-a", ExpectedVersion.NoStream, Events.Many(2));

        var exists = await Assert.ThrowsAsync<WrongExpectedVersionException>(() => Log.AppendAsync("set-a", ExpectedVersion.NoStream, Events.Many(1)));
        var stale = await Assert.ThrowsAsync<WrongExpectedVersionException>(() => Log.AppendAsync("set-a", ExpectedVersion.Exactly(0), Events.Many(1)));
        var missing = await Assert.ThrowsAsync<WrongExpectedVersionException>(() => Log.AppendAsync("set-z", ExpectedVersion.Exactly(0), Events.Many(1)));

        Assert.Equal(("set-a", -1L, 1L), (exists.StreamId, exists.Expected.Value, exists.Actual));
        Assert.Equal((0L, 1L), (stale.Expected.Value, stale.Actual));
        Assert.Equal(-1L, missing.Actual);
        Assert.Contains("set-a", stale.Message);
        Assert.Equal(2, (await Log.ReadHeadAsync()).Position);
        var any = await Log.AppendAsync("set-a", ExpectedVersion.Any, Events.Many(1));
        Assert.Equal(new AppendResult(3, 3, 2), any);
    }

    [Fact]
    public async Task concurrent_writers_on_one_stream_each_round_exactly_one_wins()
    {
        const int rounds = 20, writers = 8;
        await Log.AppendAsync("contended", ExpectedVersion.NoStream, Events.Many(1));
        for (var round = 0; round < rounds; round++)
        {
            var expected = ExpectedVersion.Exactly(round);
            var attempts = Enumerable.Range(0, writers)
                .Select(_ => Task.Run(() => Log.AppendAsync("contended", expected, Events.Many(1))))
                .ToArray();
            var settled = await Task.WhenAll(attempts.Select(async t =>
            {
                try { await t; return true; }
                catch (WrongExpectedVersionException) { return false; }
            }));
            Assert.Equal(1, settled.Count(won => won));
        }

        var stream = await Log.ReadStreamAsync("contended").ToListAsync();
        Assert.Equal(Enumerable.Range(0, rounds + 1).Select(v => (long)v), stream.Select(r => r.StreamVersion));
    }

    [Fact]
    public async Task concurrent_writers_on_many_streams_leave_no_gap_no_duplicate_and_an_intact_chain()
    {
        const int writers = 16, appends = 60;
        var results = await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var positions = new List<long>();
            var expected = ExpectedVersion.NoStream;
            for (var i = 0; i < appends; i++)
            {
                var r = await Log.AppendAsync($"writer-{w}", expected, Events.Many(1 + (i % 3)));
                expected = ExpectedVersion.Exactly(r.StreamVersion);
                positions.AddRange(Enumerable.Range(0, (int)(r.LastPosition - r.FirstPosition + 1)).Select(k => r.FirstPosition + k));
            }

            return positions;
        })));

        var total = writers * Enumerable.Range(0, appends).Sum(i => 1 + (i % 3));
        var all = await Log.ReadAllAsync().ToListAsync();
        Assert.Equal(Enumerable.Range(1, total).Select(p => (long)p), all.Select(r => r.Position));
        Assert.Equal(Enumerable.Range(1, total).Select(p => (long)p), results.SelectMany(p => p).Order());
        foreach (var stream in all.GroupBy(r => r.StreamId))
            Assert.Equal(Enumerable.Range(0, stream.Count()).Select(v => (long)v), stream.Select(r => r.StreamVersion));
        var report = await LogVerifier.VerifyAsync(Log);
        Assert.True(report.Intact, report.Violation?.ToString());
        Assert.Equal(total, report.Checked);
    }

    [Fact]
    public async Task a_subscription_catches_up_then_sees_live_records_once_each_in_order()
    {
        await Log.AppendAsync("before", ExpectedVersion.NoStream, Events.Many(5));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var seen = new List<long>();
        var subscription = Task.Run(async () =>
        {
            await foreach (var r in Log.SubscribeAsync(2, cts.Token))
            {
                seen.Add(r.Position);
                if (r.Position == 45)
                    break;
            }
        });

        var live = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 5; i++)
                await Log.AppendAsync($"live-{w}", ExpectedVersion.Any, Events.Many(1));
        }));
        await Task.WhenAll(live);
        await subscription;

        Assert.Equal(Enumerable.Range(2, 44).Select(p => (long)p), seen);
    }

    [Fact]
    public async Task verify_passes_an_intact_log_and_reopening_continues_the_chain()
    {
        await Log.AppendAsync("a", ExpectedVersion.NoStream, Events.Many(10));
        await Log.DisposeAsync();
        Log = await Binding.OpenAsync();
        await Log.AppendAsync("a", ExpectedVersion.Exactly(9), Events.Many(10));

        var report = await LogVerifier.VerifyAsync(Log);

        Assert.True(report.Intact, report.Violation?.ToString());
        Assert.Equal(20, report.Checked);
        Assert.Equal(await Log.ReadHeadAsync(), report.Head);
    }

    [Fact]
    public async Task an_edited_payload_byte_is_detected_at_its_position()
    {
        await Log.AppendAsync("a", ExpectedVersion.NoStream, Events.Many(10));
        var victim = (await Log.ReadAllAsync(5).ToListAsync())[0];
        var payload = (byte[])victim.Payload.Clone();
        payload[3] ^= 0x01;

        await Binding.DeleteBehindAsync(5);
        await Binding.InsertBehindAsync(victim with { Payload = payload });

        var violation = (await LogVerifier.VerifyAsync(Log)).Violation;
        Assert.Equal((5L, ViolationKind.Altered), (violation?.Position, violation?.Kind));
    }

    [Fact]
    public async Task a_deleted_record_is_detected_as_missing_at_its_position()
    {
        await Log.AppendAsync("a", ExpectedVersion.NoStream, Events.Many(10));

        await Binding.DeleteBehindAsync(7);

        var report = await LogVerifier.VerifyAsync(Log);
        Assert.Equal((7L, ViolationKind.Missing), (report.Violation?.Position, report.Violation?.Kind));
        Assert.Equal(6, report.Checked);
    }

    [Fact]
    public async Task records_missing_across_whole_read_blocks_are_detected_where_they_start_and_the_seams_between_blocks_hold()
    {
        // More than two blocks of the parallel verifier: a gap spanning a whole block, and links checked across seams.
        var total = LogVerifier.BlockSize * 4 + 100;
        long gap = LogVerifier.BlockSize + 500;
        for (var i = 0; i < total; i += 1000)
            await Log.AppendAsync("a", ExpectedVersion.Any, Events.Many(Math.Min(1000, total - i)));
        var intact = await LogVerifier.VerifyAsync(Log, readers: 2);
        for (var p = gap; p < gap + LogVerifier.BlockSize + 10; p++)
            await Binding.DeleteBehindAsync(p);

        var report = await LogVerifier.VerifyAsync(Log, readers: 2);

        Assert.True(intact.Intact, intact.Violation?.ToString());
        Assert.Equal(total, intact.Checked);
        Assert.Equal((gap, ViolationKind.Missing), (report.Violation?.Position, report.Violation?.Kind));
        Assert.Equal(gap - 1, report.Checked);
    }

    [Fact]
    public async Task two_swapped_records_are_detected_at_the_first_of_them()
    {
        await Log.AppendAsync("a", ExpectedVersion.NoStream, Events.Many(4));
        await Log.AppendAsync("b", ExpectedVersion.NoStream, Events.Many(4));
        var records = await Log.ReadAllAsync(4).ToListAsync();
        var (fourth, fifth) = (records[0], records[1]);

        await Binding.DeleteBehindAsync(4);
        await Binding.DeleteBehindAsync(5);
        await Binding.InsertBehindAsync(fifth with { Position = 4 });
        await Binding.InsertBehindAsync(fourth with { Position = 5 });

        var violation = (await LogVerifier.VerifyAsync(Log)).Violation;
        Assert.Equal((4L, ViolationKind.Moved), (violation?.Position, violation?.Kind));
        Assert.Contains("written at position 5", violation!.Detail);
    }

    [Fact]
    public async Task a_record_inserted_with_a_valid_hash_is_detected_where_the_chain_breaks()
    {
        await Log.AppendAsync("a", ExpectedVersion.NoStream, Events.Many(10));
        var tail = await Log.ReadAllAsync(6).ToListAsync();
        var before = (await Log.ReadAllAsync(5).ToListAsync())[0];
        var forged = new EventRecord(6, "a", 99, "Forged", "{}"u8.ToArray(), [], before.RecordedAt, before.Hash, []);
        forged = forged with { Hash = ChainHash.Compute(forged) };

        foreach (var r in tail.AsEnumerable().Reverse())
            await Binding.DeleteBehindAsync(r.Position);
        await Binding.InsertBehindAsync(forged);
        foreach (var r in tail)
            await Binding.InsertBehindAsync(r with { Position = r.Position + 1 });

        var violation = (await LogVerifier.VerifyAsync(Log)).Violation;
        Assert.Equal((7L, ViolationKind.Moved), (violation?.Position, violation?.Kind));
    }

    [Fact]
    public async Task records_cut_from_the_end_are_caught_against_a_trusted_head()
    {
        await Log.AppendAsync("a", ExpectedVersion.NoStream, Events.Many(10));
        var trusted = await Log.ReadHeadAsync();

        await Binding.DeleteBehindAsync(10);
        await Binding.DeleteBehindAsync(9);

        Assert.True((await LogVerifier.VerifyAsync(Log)).Intact);
        var violation = (await LogVerifier.VerifyAsync(Log, trustedHead: trusted)).Violation;
        Assert.Equal((9L, ViolationKind.Missing), (violation?.Position, violation?.Kind));
    }

    [Fact]
    public async Task the_service_cannot_update_delete_or_truncate_and_nothing_changes()
    {
        await Log.AppendAsync("a", ExpectedVersion.NoStream, Events.Many(3));
        var before = await Log.ReadAllAsync().ToListAsync();

        var errors = await Binding.TryRewriteAsServiceAsync();

        Assert.Equal(3, errors.Count);
        var after = await Log.ReadAllAsync().ToListAsync();
        Assert.Equal(before.Select(r => Convert.ToHexString(r.Hash)), after.Select(r => Convert.ToHexString(r.Hash)));
        Assert.Equal(before.Select(r => Convert.ToHexString(r.Payload)), after.Select(r => Convert.ToHexString(r.Payload)));
        Assert.True((await LogVerifier.VerifyAsync(Log)).Intact);
    }
}

public sealed class SqliteEventLogConformance : EventLogConformance<SqliteBinding>;

public sealed class PostgresEventLogConformance : EventLogConformance<PostgresBinding>;
