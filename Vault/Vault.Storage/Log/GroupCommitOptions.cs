namespace Vault.Storage.Log;

public sealed record GroupCommitOptions
{
    /// <summary>The most events one transaction takes; appends beyond wait for the next.</summary>
    public int MaxBatchEvents { get; init; } = 4096;

    /// <summary>How often a caught-up subscription looks for records written by other processes.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeProvider Clock { get; init; } = TimeProvider.System;
}
