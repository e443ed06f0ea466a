namespace Vault.Storage.Leadership;

/// <summary>
/// Leadership among the instances that share one vault: at most one holds the lease at a time, and it is released when
/// its holder stops or dies (the database session or the file lock goes with the process). Scheduled work (due
/// requests, checkpoints, expiries) runs only while the lease is held. The lease is a courtesy, not a safeguard: every
/// effect that work appends is still written under the log's expected versions, so two holders could not both execute
/// one request.
/// </summary>
public interface ILeaderLease : IAsyncDisposable
{
    /// <summary>What the lease is held on, for logs.</summary>
    string Describe { get; }

    /// <summary>Takes the lease if it is free, or checks that the one held is still alive; true while this instance holds it.</summary>
    Task<bool> TryHoldAsync(CancellationToken cancellationToken);
}

/// <summary>A log backend that can elect one leader among the processes sharing it.</summary>
public interface ILeadershipSource
{
    /// <summary>A lease named <paramref name="name"/>, separate from every other name and every other vault.</summary>
    ILeaderLease Lease(string name);
}
