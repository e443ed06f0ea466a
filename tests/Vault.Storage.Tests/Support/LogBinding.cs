using Vault.Core.Log;

namespace Vault.Storage.Tests.Support;

/// <summary>
/// How the conformance suite reaches one backend: open the log under test (as the service would), and change rows
/// behind the service's back (as a superuser or a file editor would), bypassing the append-only triggers.
/// </summary>
public interface ILogBinding : IAsyncDisposable
{
    Task<IEventLog> OpenAsync(TimeProvider? clock = null);

    Task DeleteBehindAsync(long position);

    Task InsertBehindAsync(EventRecord record);

    /// <summary>Runs UPDATE, DELETE and TRUNCATE (where the store has it) as the service itself; returns the errors, one per statement that failed.</summary>
    Task<IReadOnlyList<Exception>> TryRewriteAsServiceAsync();
}
