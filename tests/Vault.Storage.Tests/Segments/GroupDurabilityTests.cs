using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Win32.SafeHandles;
using Vault.Storage.Segments;

namespace Vault.Storage.Tests.Segments;

/// <summary>
/// The order a group of new segment files goes through: their bytes synced, then named, then the names synced, and
/// only then are the writers answered; while one group syncs, the next gathers. The syncs are the test's own, held
/// until the test lets each one finish, so every step is seen in turn.
/// </summary>
public sealed class GroupDurabilityTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "vault-group-" + Guid.NewGuid().ToString("N"));
    private readonly ConcurrentQueue<string> _steps = new();
    private readonly SemaphoreSlim _syncStarted = new(0);
    private readonly SemaphoreSlim _syncMayFinish = new(0);
    private readonly List<SafeFileHandle> _handles = [];

    public GroupDurabilityTests() => Directory.CreateDirectory(_directory);

    public void Dispose()
    {
        foreach (var handle in _handles)
            handle.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private SafeFileHandle File(string name)
    {
        var handle = System.IO.File.OpenHandle(Path.Combine(_directory, name + ".tmp"), FileMode.CreateNew, FileAccess.ReadWrite);
        _handles.Add(handle);
        return handle;
    }

    private bool? Name(SafeFileHandle file, string final)
    {
        _steps.Enqueue("name " + final);
        return final.StartsWith("taken", StringComparison.Ordinal) ? false : true;
    }

    private void HeldSync(SafeFileHandle file, string what)
    {
        _steps.Enqueue("sync");
        _syncStarted.Release();
        if (!_syncMayFinish.Wait(TimeSpan.FromSeconds(30)))
            throw new TimeoutException("the test never let the sync finish");
    }

    private async Task FinishOneSync()
    {
        Assert.True(await _syncStarted.WaitAsync(TimeSpan.FromSeconds(30)), "no sync started");
        _syncMayFinish.Release();
    }

    /// <summary>"a" published and its first sync started (and held); then b0…b4 published while it is held.</summary>
    private async Task<(Task<bool?> First, Task<bool?>[] Later)> FirstThenFiveWhileItSyncsAsync(GroupDurability durability)
    {
        var first = durability.PublishAsync(durability.Expect(), File("a"), "a");
        Assert.True(await _syncStarted.WaitAsync(TimeSpan.FromSeconds(30)));
        return (first, Enumerable.Range(0, 5).Select(i => durability.PublishAsync(durability.Expect(), File("b" + i), "b" + i)).ToArray());
    }

    [Fact]
    public async Task bytes_are_synced_before_any_name_names_before_the_answer_and_writers_arriving_meanwhile_share_the_next_group()
    {
        var durability = new GroupDurability(Name, TimeProvider.System, TimeSpan.Zero, 64, HeldSync);

        var (first, later) = await FirstThenFiveWhileItSyncsAsync(durability);
        await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System); // time enough for a wrong implementation to name or answer early
        Assert.Equal(["sync"], _steps);
        Assert.False(first.IsCompleted);

        _syncMayFinish.Release(); // the first group's bytes are durable: named, then its names synced
        Assert.True(await _syncStarted.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(["sync", "name a", "sync"], _steps);
        Assert.False(first.IsCompleted); // not answered before its name is durable
        Assert.False(durability.SettledAsync("a").IsCompleted);

        _syncMayFinish.Release();
        Assert.True(await first);
        await durability.SettledAsync("a").WaitAsync(TimeSpan.FromSeconds(30));

        await FinishOneSync(); // the five that came while the first group synced: one group, two syncs
        await FinishOneSync();
        Assert.All(await Task.WhenAll(later), named => Assert.True(named));
        Assert.Equal(2, durability.Groups);
        Assert.Equal(["sync", "name a", "sync", "sync", "name b0", "name b1", "name b2", "name b3", "name b4", "sync"], _steps);
    }

    [Fact]
    public async Task a_group_never_holds_more_files_than_its_most_and_the_rest_make_the_next_group()
    {
        var durability = new GroupDurability(Name, TimeProvider.System, TimeSpan.Zero, 3, HeldSync);

        var (first, later) = await FirstThenFiveWhileItSyncsAsync(durability);
        _syncMayFinish.Release();
        for (var sync = 0; sync < 5; sync++)
            await FinishOneSync();

        Assert.True(await first);
        Assert.All(await Task.WhenAll(later), named => Assert.True(named));
        Assert.Equal((3, 6), (durability.Groups, durability.Files));
        Assert.Equal(["sync", "name a", "sync", "sync", "name b0", "name b1", "name b2", "sync", "sync", "name b3", "name b4", "sync"], _steps);
    }

    [Fact]
    public async Task a_failed_sync_of_the_bytes_fails_every_writer_of_its_group_and_names_nothing()
    {
        var durability = new GroupDurability(Name, TimeProvider.System, TimeSpan.Zero, 64, (_, what) =>
        {
            _steps.Enqueue("sync");
            throw new IOException($"syncing {what} to disk failed: Input/output error");
        });

        var writes = new[] { durability.PublishAsync(durability.Expect(), File("a"), "a"), durability.PublishAsync(durability.Expect(), File("b"), "b") };

        foreach (var write in writes)
        {
            var error = await Assert.ThrowsAsync<IOException>(() => write);
            Assert.Contains("Input/output error", error.Message, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(_steps, step => step.StartsWith("name", StringComparison.Ordinal));
        Assert.True(durability.SettledAsync("a").IsCompleted);
    }

    [Fact]
    public async Task a_name_already_taken_is_answered_false_and_a_group_with_no_new_name_syncs_once()
    {
        var durability = new GroupDurability(Name, TimeProvider.System, TimeSpan.Zero, 64, (_, _) => _steps.Enqueue("sync"));

        Assert.False(await durability.PublishAsync(durability.Expect(), File("taken"), "taken"));

        Assert.Equal(["sync", "name taken"], _steps);
    }

    private GroupDurability Gathering(FakeTimeProvider clock) => new(Name, clock, TimeSpan.FromMinutes(1), 3, (_, _) => _steps.Enqueue("sync"));

    /// <summary>Long enough for a wrong implementation to have synced early.</summary>
    private static Task Moment() => Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System);

    [Fact]
    public async Task a_writer_alone_is_not_kept_waiting_for_the_gathering_time()
    {
        var durability = Gathering(new FakeTimeProvider());

        Assert.True(await durability.PublishAsync(durability.Expect(), File("a"), "a").WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Equal(["sync", "name a", "sync"], _steps);
    }

    [Fact]
    public async Task a_group_waits_for_a_writer_on_its_way_and_syncs_once_it_arrives()
    {
        var durability = Gathering(new FakeTimeProvider());
        var onItsWay = durability.Expect();

        var first = durability.PublishAsync(durability.Expect(), File("a"), "a");
        await Moment();
        Assert.Empty(_steps);

        var second = durability.PublishAsync(onItsWay, File("b"), "b");
        await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(["sync", "name a", "name b", "sync"], _steps);
        Assert.Equal((1, 2), (durability.Groups, durability.Files));
    }

    [Fact]
    public async Task a_group_stops_waiting_when_the_writer_on_its_way_gives_up_when_it_is_full_or_when_the_gathering_time_is_up()
    {
        var clock = new FakeTimeProvider();
        var durability = Gathering(clock);

        var givesUp = durability.Expect();
        var alone = durability.PublishAsync(durability.Expect(), File("a"), "a");
        await Moment();
        Assert.False(alone.IsCompleted);
        givesUp.Dispose(); // found the segment already stored, or failed: nothing more to wait for
        Assert.True(await alone.WaitAsync(TimeSpan.FromSeconds(30)));

        var slow = durability.Expect();
        var full = Enumerable.Range(0, 3).Select(i => durability.PublishAsync(durability.Expect(), File("f" + i), "f" + i)).ToArray();
        Assert.All(await Task.WhenAll(full).WaitAsync(TimeSpan.FromSeconds(30)), named => Assert.True(named)); // three: the most a group holds

        var late = durability.PublishAsync(durability.Expect(), File("l"), "l");
        await Moment();
        Assert.False(late.IsCompleted);
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.True(await late.WaitAsync(TimeSpan.FromSeconds(30)));
        slow.Dispose();

        Assert.Equal((3, 5), (durability.Groups, durability.Files));
    }
}
