using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Vault.Core.Errors;
using Vault.Core.Log;

namespace Vault.Storage.Log;

/// <summary>
/// The event log over any transactional backend. Appends from many callers queue up; one writer takes
/// everything queued (up to a limit) and commits it in one transaction, so callers share the cost of a
/// durable commit while the chain stays strictly sequential.
/// </summary>
public sealed class GroupCommitEventLog : IEventLog
{
    private readonly ILogBackend _backend;
    private readonly GroupCommitOptions _options;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;
    private TaskCompletionSource _committed = NewSignal();

    public GroupCommitEventLog(ILogBackend backend, GroupCommitOptions? options = null)
    {
        _backend = backend;
        _options = options ?? new GroupCommitOptions();
        _writer = Task.Run(WriteLoopAsync);
    }

    public string Describe => _backend.Describe;

    /// <summary>The backend's record-by-buffer scan, when it has one (see <see cref="IRawLogScan"/>).</summary>
    public IRawLogScan? RawScan => _backend as IRawLogScan;

    /// <summary>Leadership among the processes sharing this log, when the backend offers it.</summary>
    public Leadership.ILeadershipSource? Leadership => _backend as Leadership.ILeadershipSource;

    /// <summary>Where this log's read models live, when the backend keeps them.</summary>
    public ReadModels.IReadModelSource? ReadModels => _backend as ReadModels.IReadModelSource;

    public Task<AppendResult> AppendAsync(StreamId stream, ExpectedVersion expected, IReadOnlyList<EventData> events, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var pending = new Pending(new AppendRequest(stream, expected, events), _options.Clock.GetTimestamp());
        if (!_queue.Writer.TryWrite(pending))
            throw new ObjectDisposedException(nameof(GroupCommitEventLog), "The event log is closed.");
        // Once queued, an append is not withdrawn: cancelling could not tell the caller whether it landed.
        return pending.Completion.Task;
    }

    public IAsyncEnumerable<EventRecord> ReadStreamAsync(StreamId stream, long fromVersion = 0, CancellationToken cancellationToken = default) =>
        _backend.ReadStreamAsync(stream.Value, fromVersion, cancellationToken);

    public IAsyncEnumerable<EventRecord> ReadAllAsync(long fromPosition = 1, CancellationToken cancellationToken = default) =>
        _backend.ReadAllAsync(Math.Max(1, fromPosition), cancellationToken);

    public Task<LogHead> ReadHeadAsync(CancellationToken cancellationToken = default) => _backend.ReadHeadAsync(cancellationToken);

    public async IAsyncEnumerable<EventRecord> SubscribeAsync(long fromPosition, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var next = Math.Max(1, fromPosition);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var signal = Volatile.Read(ref _committed).Task;
            var any = false;
            await foreach (var record in _backend.ReadAllAsync(next, cancellationToken))
            {
                any = true;
                next = record.Position + 1;
                yield return record;
            }

            if (!any)
            {
                // Woken by a commit in this process, or by the poll for commits of other processes.
                await Task.WhenAny(signal, Task.Delay(_options.PollInterval, _options.Clock, cancellationToken));
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer;
        await _backend.DisposeAsync();
    }

    private async Task WriteLoopAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<Pending>();
        var requests = new List<AppendRequest>();
        while (await reader.WaitToReadAsync())
        {
            batch.Clear();
            requests.Clear();
            var events = 0;
            while (events < _options.MaxBatchEvents && reader.TryRead(out var pending))
            {
                batch.Add(pending);
                requests.Add(pending.Request);
                events += pending.Request.Events.Count;
            }

            try
            {
                var sealedBatch = await _backend.CommitAsync(requests, _options.Clock, CancellationToken.None);
                for (var i = 0; i < batch.Count; i++)
                {
                    var outcome = sealedBatch.Outcomes[i];
                    if (outcome.Error is { } error)
                        batch[i].Completion.TrySetException(error);
                    else
                        batch[i].Completion.TrySetResult(outcome.Result!);
                    LogMetrics.AppendDuration.Record(_options.Clock.GetElapsedTime(batch[i].Queued).TotalSeconds);
                }

                LogMetrics.Batches.Record(batch.Count);
            }
            catch (Exception ex)
            {
                var error = ex as VaultException ?? new StorageUnavailableException($"Writing to the event log at {_backend.Describe} failed: {ex.Message}", ex);
                foreach (var pending in batch)
                    pending.Completion.TrySetException(error);
            }

            Interlocked.Exchange(ref _committed, NewSignal()).TrySetResult();
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed record Pending(AppendRequest Request, long Queued)
    {
        public TaskCompletionSource<AppendResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
