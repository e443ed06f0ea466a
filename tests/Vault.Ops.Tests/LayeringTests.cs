using System.Reflection;
using Vault.Core.Log;
using Vault.Storage;
using Vault.Storage.Postgres;

namespace Vault.Ops.Tests;

/// <summary>References point one way: Core &lt;- Storage &lt;- Storage.Postgres &lt;- ops. Core does no I/O.</summary>
public sealed class LayeringTests
{
    private static string[] References(Assembly assembly) => assembly.GetReferencedAssemblies().Select(a => a.Name!).ToArray();

    [Fact]
    public void core_references_no_storage_driver_and_nothing_of_ours()
    {
        var references = References(typeof(ChainHash).Assembly);

        Assert.DoesNotContain(references, r => r.StartsWith("Vault.", StringComparison.Ordinal) || r.Contains("Sqlite", StringComparison.Ordinal) || r == "Npgsql");
    }

    [Fact]
    public void storage_does_not_reach_up_to_postgres_or_ops()
    {
        var references = References(typeof(IEventLog).Assembly);

        Assert.DoesNotContain("Vault.Storage.Postgres", references);
        Assert.DoesNotContain("Npgsql", references);
        Assert.DoesNotContain("vault", references);
    }

    [Fact]
    public void the_postgres_backend_does_not_reach_up_to_ops()
    {
        Assert.DoesNotContain("vault", References(typeof(PostgresLogBackend).Assembly));
    }
}
