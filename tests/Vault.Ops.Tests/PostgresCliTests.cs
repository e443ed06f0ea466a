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

    /// <summary>The INSERT/SELECT service role the tests run as (shared by every test; created once).</summary>
    private static async Task EnsureServiceRoleAsync()
    {
        await using var connection = new NpgsqlConnection(Admin);
        await connection.OpenAsync();
        await using var role = new NpgsqlCommand("DO $$ BEGIN CREATE ROLE vault_service LOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;", connection);
        await role.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task init_as_owner_then_tail_and_verify_as_the_service_role()
    {
        await EnsureServiceRoleAsync();

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

    /// <summary>
    /// The rotation on a PostgreSQL vault run as the service role: the media inventory is cached in the read-model
    /// schema the role was granted, read back by the next command, and agrees with a replay ('read-models verify').
    /// </summary>
    [Fact]
    public async Task the_rotation_on_postgres_caches_its_media_inventory_in_the_read_model_schema_as_the_service_role()
    {
        await EnsureServiceRoleAsync();

        var schema = "rot_" + Guid.NewGuid().ToString("N")[..12];
        var vault = _temp.Sub("pg");
        Assert.Equal(0, (await Init("init", "--vault", vault, "--postgres", Admin, "--pg-schema", schema, "--grant-to", "vault_service")).ExitCode);
        var asService = new Dictionary<string, string> { ["VAULT_POSTGRES"] = new NpgsqlConnectionStringBuilder(Admin) { Username = "vault_service" }.ToString() };
        Task<CliRun> Run(params string[] args) => CliRun.RunWithAsync(asService, [.. args, "--vault", vault]);
        Directory.CreateDirectory(_temp.Sub("src"));
        await File.WriteAllBytesAsync(_temp.Sub("src/a.bin"), System.Security.Cryptography.RandomNumberGenerator.GetBytes(300_000));

        var configure = await Run("rotation", "configure");
        var push = await Run("push", _temp.Sub("src"), "--set", "s1", "--source", "web", "--no-cache");
        var run = await Run("rotation", "run", "--label-new-media");
        var first = await Run("media", "list", "--json");
        long cached;
        await using (var connection = new NpgsqlConnection(Admin))
        {
            await connection.OpenAsync();
            await using var count = new NpgsqlCommand($"SELECT count(*) FROM {schema}_read.snapshots WHERE name = 'rotation'", connection);
            cached = (long)(await count.ExecuteScalarAsync())!;
        }

        var second = await Run("media", "list", "--json");
        var verify = await Run("read-models", "verify");

        Assert.True(configure.ExitCode == 0, configure.Error);
        Assert.True(push.ExitCode == 0, push.Error);
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.True(first.ExitCode == 0, first.Error);
        Assert.Equal(1, cached);
        Assert.Equal(first.Output, second.Output);
        Assert.Contains(JsonDocument.Parse(second.Output).RootElement.EnumerateArray(), m => m.GetProperty("sets").GetArrayLength() > 0);
        Assert.True(verify.ExitCode == 0, verify.Output + verify.Error);
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
