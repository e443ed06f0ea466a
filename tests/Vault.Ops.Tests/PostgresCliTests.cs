using System.Text.Json;
using Npgsql;

namespace Vault.Ops.Tests;

/// <summary>The CLI against the real PostgreSQL started by ops/test.sh: init as owner, everything else as the INSERT/SELECT-only service role.</summary>
public sealed class PostgresCliTests : IDisposable
{
    private readonly TempDir _temp = new();
    private TestApprovers? _approvers;

    private async Task<CliRun> Init(params string[] args)
    {
        _approvers ??= await TestApprovers.CreateAsync(_temp.Sub("keys"));
        return await CliRun.RunAsync([.. args, .. _approvers.InitArguments]);
    }

    private static string Admin => Environment.GetEnvironmentVariable("VAULT_TEST_PG") is { Length: > 0 } v
        ? v
        : throw new InvalidOperationException("VAULT_TEST_PG is not set: run the tests with ops/test.sh (README).");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task init_as_owner_then_tail_and_verify_as_the_service_role()
    {
        await using (var connection = new NpgsqlConnection(Admin))
        {
            await connection.OpenAsync();
            await using var role = new NpgsqlCommand("DO $$ BEGIN CREATE ROLE vault_service LOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;", connection);
            await role.ExecuteNonQueryAsync();
        }

        var schema = "cli_" + Guid.NewGuid().ToString("N")[..12];
        var service = new NpgsqlConnectionStringBuilder(Admin) { Username = "vault_service" }.ToString();
        var vault = _temp.Sub("pg");

        var init = await Init("init", "--vault", vault, "--postgres", Admin, "--pg-schema", schema, "--grant-to", "vault_service");
        var verify = await CliRun.RunWithAsync(new Dictionary<string, string> { ["VAULT_POSTGRES"] = service }, "log", "verify", "--vault", vault, "--json");
        var again = await Init("init", "--vault", _temp.Sub("pg2"), "--postgres", Admin, "--pg-schema", schema);

        Assert.Equal(0, init.ExitCode);
        Assert.Equal(0, verify.ExitCode);
        Assert.True(JsonDocument.Parse(verify.Output).RootElement.GetProperty("intact").GetBoolean());
        Assert.Equal(4, again.ExitCode);
        Assert.False(Directory.Exists(_temp.Sub("pg2")));
    }

    [Fact]
    public async Task an_unreachable_server_exits_5_and_leaves_no_half_made_vault()
    {
        var vault = _temp.Sub("unreachable");

        var run = await Init("init", "--vault", vault, "--postgres", "Host=127.0.0.1;Port=1;Username=nobody;Timeout=3");

        Assert.Equal(5, run.ExitCode);
        Assert.Contains("cannot be reached", run.Error);
        Assert.False(Directory.Exists(vault));
        run.AssertNoStackTrace();
    }

    [Fact]
    public async Task a_malformed_connection_string_exits_2()
    {
        var run = await Init("init", "--vault", _temp.Sub("bad"), "--postgres", "Host=x;Port=notanumber");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("malformed", run.Error);
        Assert.False(Directory.Exists(_temp.Sub("bad")));
    }

    [Fact]
    public async Task a_postgres_vault_without_a_connection_string_says_how_to_give_one()
    {
        var schema = "cli_" + Guid.NewGuid().ToString("N")[..12];
        var vault = _temp.Sub("pg");
        Assert.Equal(0, (await Init("init", "--vault", vault, "--postgres", Admin, "--pg-schema", schema)).ExitCode);

        var run = await CliRun.RunAsync("log", "tail", "--vault", vault);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("VAULT_POSTGRES", run.Error);
    }
}
