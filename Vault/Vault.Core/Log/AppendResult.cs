namespace Vault.Core.Log;

/// <summary>Where an append landed: the global positions of its first and last record and the stream's new version.</summary>
public sealed record AppendResult(long FirstPosition, long LastPosition, long StreamVersion);
