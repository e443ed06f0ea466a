namespace Vault.Storage.Leadership;

/// <summary>
/// A lease held as an exclusive lock on a file (flock on Unix): for instances on one machine sharing an embedded
/// (SQLite) vault. The kernel drops the lock when the holding process exits, however it exits.
/// </summary>
public sealed class FileLeaderLease(string path) : ILeaderLease
{
    private FileStream? _held;

    public string Describe => $"file lock {path}";

    public Task<bool> TryHoldAsync(CancellationToken cancellationToken)
    {
        if (_held is not null)
            return Task.FromResult(true);
        try
        {
            // FileShare.None takes an exclusive advisory lock on Unix: one holder at a time, in any process.
            _held = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            return Task.FromResult(true);
        }
        catch (IOException)
        {
            return Task.FromResult(false);
        }
    }

    public ValueTask DisposeAsync()
    {
        _held?.Dispose();
        _held = null;
        return ValueTask.CompletedTask;
    }
}
