using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Vault.Storage.Segments;

/// <summary>
/// Makes new segment files durable and named in groups, as the log's group commit does for appends. A writer hands
/// over its unnamed file (written, not yet synced); one writer at a time takes every file handed over so far and, for
/// all of them together: syncs the file system (<c>syncfs</c>: their bytes are on disk), names each file
/// (<c>linkat</c>, never over an existing name), and syncs again (the names are on disk). A name therefore still
/// appears only over durable bytes, and a writer is answered only once its name is durable, but N concurrent
/// segments cost two device flushes instead of 2·N fsyncs. While one group is being synced the next one gathers, so
/// a lone writer waits no longer than before and a busy store syncs in larger groups.
/// </summary>
public sealed partial class GroupDurability
{
    /// <summary>Names one durable file: true when named, false when the name was taken, null when the caller must write it under a temporary name instead.</summary>
    public delegate bool? Namer(SafeFileHandle file, string final);

    private readonly Namer _name;
    private readonly Action<SafeFileHandle, string> _sync;
    private readonly TimeProvider _clock;
    private readonly TimeSpan _gather;
    private readonly int _maxGroup;
    private readonly Lock _gate = new();
    private List<Pending> _queue = [];
    private bool _running;
    private int _arriving;
    private TaskCompletionSource? _gathered;
    private long _groups;
    private long _files;

    /// <summary>Names given in a group whose second sync has not finished: a writer that finds one waits for it.</summary>
    private readonly ConcurrentDictionary<string, Task> _unsynced = new(StringComparer.Ordinal);

    /// <param name="name">Names one file once its bytes are durable.</param>
    /// <param name="clock">The clock the gathering wait runs on.</param>
    /// <param name="gather">
    /// How long a group waits, at most, for writers already on their way (see <see cref="Expect"/>) before it syncs;
    /// a writer alone never waits for it.
    /// </param>
    /// <param name="maxGroup">The most files one group syncs: reaching it ends the wait.</param>
    /// <param name="sync">Makes everything written on the file system of the given file durable; <c>syncfs</c> unless given (tests give their own to watch the order).</param>
    public GroupDurability(Namer name, TimeProvider clock, TimeSpan gather, int maxGroup, Action<SafeFileHandle, string>? sync = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxGroup, 1);
        _name = name;
        _clock = clock;
        _gather = gather;
        _maxGroup = maxGroup;
        _sync = sync ?? Sync;
    }

    /// <summary>How many groups were made durable (each: two file-system syncs).</summary>
    public long Groups => Interlocked.Read(ref _groups);

    /// <summary>How many files those groups made durable.</summary>
    public long Files => Interlocked.Read(ref _files);

    /// <summary>
    /// A writer says it is on its way with a new file (verifying or writing it), so a group about to sync waits for it
    /// (up to the gathering time). Disposed without <see cref="PublishAsync"/>, it is no longer waited for.
    /// </summary>
    public Arrival Expect()
    {
        lock (_gate)
            _arriving++;
        return new Arrival(this);
    }

    /// <summary>
    /// Makes <paramref name="file"/> (written, unnamed) durable and names it <paramref name="final"/>; completes once
    /// the name is durable. The handle must stay open until then.
    /// </summary>
    public Task<bool?> PublishAsync(Arrival arrival, SafeFileHandle file, string final)
    {
        var pending = new Pending(file, final, new TaskCompletionSource<bool?>(TaskCreationOptions.RunContinuationsAsynchronously));
        bool lead;
        lock (_gate)
        {
            _queue.Add(pending);
            arrival.ArrivedLocked();
            lead = !_running;
            _running = true;
        }

        if (lead)
            _ = Task.Run(DrainAsync); // syncs block: on a pool thread, never on the writer's
        return pending.Done.Task;
    }

    /// <summary>
    /// Completes once <paramref name="final"/>, if this store named it in a group still being synced, is durable: a
    /// writer that finds the name already there (another writer of the same segment) answers only after that.
    /// </summary>
    public Task SettledAsync(string final) => _unsynced.TryGetValue(final, out var named) ? named : Task.CompletedTask;

    /// <summary>A writer no longer on its way: under the gate.</summary>
    private void NotArrivingLocked()
    {
        _arriving--;
        if (_gathered is not null && (_arriving == 0 || _queue.Count >= _maxGroup))
        {
            _gathered.TrySetResult();
            _gathered = null;
        }
    }

    private async Task DrainAsync()
    {
        while (true)
        {
            Task? gathering = null;
            lock (_gate)
            {
                if (_queue.Count == 0)
                {
                    _running = false;
                    return;
                }

                if (_arriving > 0 && _queue.Count < _maxGroup && _gather > TimeSpan.Zero)
                    gathering = (_gathered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }

            if (gathering is not null)
            {
                using var timeout = new CancellationTokenSource();
                await Task.WhenAny(gathering, Task.Delay(_gather, _clock, timeout.Token));
                await timeout.CancelAsync();
            }

            List<Pending> group;
            lock (_gate)
            {
                _gathered = null;
                if (_queue.Count <= _maxGroup)
                {
                    group = _queue;
                    _queue = [];
                }
                else
                {
                    group = _queue.GetRange(0, _maxGroup); // the rest makes the next group, at once
                    _queue.RemoveRange(0, _maxGroup);
                }
            }

            Commit(group);
        }
    }

    private void Commit(List<Pending> group)
    {
        var named = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var results = new bool?[group.Count];
        var errors = new Exception?[group.Count];
        try
        {
            _sync(group[0].File, "the new segments' bytes");
            var any = false;
            for (var i = 0; i < group.Count; i++)
            {
                try
                {
                    results[i] = _name(group[i].File, group[i].Final);
                    if (results[i] == true)
                    {
                        _unsynced[group[i].Final] = named.Task;
                        any = true;
                    }
                }
                catch (IOException ex)
                {
                    errors[i] = ex;
                }
            }

            if (any)
                _sync(group[0].File, "the new segments' names");
            Interlocked.Increment(ref _groups);
            Interlocked.Add(ref _files, group.Count);
            named.TrySetResult();
            for (var i = 0; i < group.Count; i++)
            {
                if (errors[i] is { } error)
                    group[i].Done.TrySetException(error);
                else
                    group[i].Done.TrySetResult(results[i]);
            }
        }
        catch (Exception ex)
        {
            named.TrySetException(ex);
            _ = named.Task.Exception; // observed: a writer waiting on a name gets it, an unwatched one is not reported later
            foreach (var pending in group)
                pending.Done.TrySetException(ex);
        }
        finally
        {
            foreach (var pending in group)
                _unsynced.TryRemove(new KeyValuePair<string, Task>(pending.Final, named.Task));
        }
    }

    private static void Sync(SafeFileHandle anyFileThere, string what)
    {
        if (SyncFs(anyFileThere) != 0)
            throw new IOException($"syncing {what} to disk failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
    }

    [LibraryImport("libc", EntryPoint = "syncfs", SetLastError = true)]
    private static partial int SyncFs(SafeFileHandle fd);

    private sealed record Pending(SafeFileHandle File, string Final, TaskCompletionSource<bool?> Done);

    /// <summary>One writer on its way (see <see cref="Expect"/>).</summary>
    public sealed class Arrival(GroupDurability owner) : IDisposable
    {
        private bool _done;

        internal void ArrivedLocked()
        {
            if (_done)
                return;
            _done = true;
            owner.NotArrivingLocked();
        }

        public void Dispose()
        {
            lock (owner._gate)
                ArrivedLocked();
        }
    }
}
