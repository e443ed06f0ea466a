using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace Vault.Ops.Tests;

/// <summary>
/// Rotation on a real vault and real tape images, on a fake clock: a month of nightly pushes and rotations, site-loss
/// drills that restore from surviving images byte-exact on sampled days, images read without the vault, and a flipped
/// byte that is caught by its checksum while the restore falls back to another copy.
/// </summary>
public sealed class RotationCliTests : IDisposable
{
    private const int Files = 6;
    private readonly TempDir _temp = new();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 1, 1, 20, 0, 0, TimeSpan.Zero));

    public void Dispose() => _temp.Dispose();

    private Task<CliRun> Run(params string[] args) => CliRun.RunAtAsync(_clock, [.. args, "--vault", _temp.Sub("vault")]);

    /// <summary>The source as it is on day <paramref name="day"/>: file (day % Files) changes every day, the rest keep their content.</summary>
    private static void WriteTree(string directory, int day)
    {
        Directory.CreateDirectory(Path.Combine(directory, "data"));
        for (var i = 0; i < Files; i++)
        {
            var version = Enumerable.Range(0, day + 1).Count(d => d % Files == i);
            var bytes = new byte[700_000 + i * 50_000];
            new Random(i * 1000 + version).NextBytes(bytes);
            File.WriteAllBytes(Path.Combine(directory, "data", $"f{i}.bin"), bytes);
        }

        File.WriteAllText(Path.Combine(directory, "day.txt"), $"day {day}\n");
    }

    private void AssertSameTree(int day, string restored)
    {
        var expected = _temp.Sub($"expected-{day}-{Guid.NewGuid():N}");
        WriteTree(expected, day);
        foreach (var file in Directory.GetFiles(expected, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(expected, file);
            Assert.True(File.ReadAllBytes(file).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(restored, relative))), $"{relative} of day {day} differs");
        }

        Assert.Equal(Directory.GetFiles(expected, "*", SearchOption.AllDirectories).Length, Directory.GetFiles(restored, "*", SearchOption.AllDirectories).Length);
    }

    /// <summary>The off-site sites on storage of their own (outside the vault directory), as a drill of the primary's loss needs.</summary>
    private Rotation.Core.RotationPolicy OffsiteElsewhere(Rotation.Core.RotationPolicy policy) =>
        policy with { Sites = [.. policy.Sites.Select(s => s.Offsite ? s with { Root = _temp.Sub(s.Name) } : s)] };

    /// <summary>A vault (approvers alice and bob) with the default rotation, its off-site sites on storage of their own.</summary>
    private async Task<TestApprovers> InitWithDefaultPolicyAsync()
    {
        var keys = await TestApprovers.CreateAsync(_temp.Sub("keys"), "alice", "bob");
        Assert.Equal(0, (await CliRun.RunAtAsync(_clock, ["init", "--vault", _temp.Sub("vault"), .. keys.InitArguments])).ExitCode);
        await File.WriteAllTextAsync(_temp.Sub("policy.json"), OffsiteElsewhere(Rotation.Core.RotationPolicy.Default()).ToJson());
        Assert.Equal(0, (await Run("rotation", "configure", "--policy", _temp.Sub("policy.json"))).ExitCode);
        return keys;
    }

    [Fact]
    public async Task losing_the_primary_loses_the_sites_kept_under_the_vault_directory_and_what_is_in_transit()
    {
        var keys = await TestApprovers.CreateAsync(_temp.Sub("keys"), "alice", "bob");
        Assert.Equal(0, (await CliRun.RunAtAsync(_clock, ["init", "--vault", _temp.Sub("vault"), .. keys.InitArguments])).ExitCode);
        Assert.Equal(0, (await Run("rotation", "configure")).ExitCode); // every site under the vault directory
        _clock.SetUtcNow(new DateTimeOffset(2026, 1, 4, 20, 0, 0, TimeSpan.Zero)); // a first Sunday: weekly and monthly fulls
        WriteTree(_temp.Sub("source"), 0);
        Assert.Equal(0, (await Run("push", _temp.Sub("source"), "--set", "night-00", "--source", "web", "--no-cache")).ExitCode);
        Assert.Equal(0, (await Run("rotation", "run", "--courier")).ExitCode); // ships the fulls: in transit tonight
        _clock.Advance(TimeSpan.FromDays(3));
        Assert.Equal(0, (await Run("rotation", "run", "--courier")).ExitCode); // arrived at offsite-a and offsite-b (under the vault)

        var primary = JsonDocument.Parse((await Run("drill", "site-loss", "primary", "--json")).Output).RootElement;
        var offsiteA = JsonDocument.Parse((await Run("drill", "site-loss", "offsite-a", "--json")).Output).RootElement;

        Assert.Equal(["offsite-a", "offsite-b", "in transit"], primary.GetProperty("alsoLost").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(0, primary.GetProperty("recorded").GetProperty("setsRestorable").GetInt32());
        Assert.Equal(0, offsiteA.GetProperty("alsoLost").GetArrayLength());
        Assert.Equal(1, offsiteA.GetProperty("recorded").GetProperty("setsRestorable").GetInt32());
    }

    private static int DayOf(string setId) => int.Parse(setId["night-".Length..], System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task a_month_of_nights_rotates_across_sites_and_every_drill_restores_byte_exact_from_surviving_images()
    {
        var keys = await TestApprovers.CreateAsync(_temp.Sub("keys"), "alice", "bob");
        Assert.Equal(0, (await CliRun.RunAtAsync(_clock, ["init", "--vault", _temp.Sub("vault"), .. keys.InitArguments])).ExitCode);
        // Small media so a full spans several of them: the minimum capacity is one 8 MiB segment and its catalog.
        var policy = OffsiteElsewhere(Rotation.Core.RotationPolicy.Default(capacityBytes: Rotation.Core.TapeLayout.MinimumCapacity));
        await File.WriteAllTextAsync(_temp.Sub("policy.json"), policy.ToJson());
        var configure = await Run("rotation", "configure", "--policy", _temp.Sub("policy.json"));
        Assert.True(configure.ExitCode == 0, configure.Error);

        var drills = new List<(int Day, string Site, JsonElement Result)>();
        for (var day = 0; day < 30; day++)
        {
            var source = _temp.Sub("source");
            WriteTree(source, day);
            var push = await Run("push", source, "--set", $"night-{day:D2}", "--source", "web", "--no-cache");
            Assert.True(push.ExitCode == 0, push.Error);
            // 'rotation plan' reads the sets from the read models and only the manifests of the sets written tonight;
            // the run builds them from the log and every manifest: both plan the same writes, segment for segment.
            var plan = await Run("rotation", "plan", "--json");
            Assert.True(plan.ExitCode == 0, $"day {day}: {plan.Error}");
            var run = await Run("rotation", "run", "--courier", "--label-new-media", "--json");
            Assert.True(run.ExitCode == 0, $"day {day}: {run.Error}");
            var planned = JsonDocument.Parse(plan.Output).RootElement.GetProperty("writes");
            var ran = JsonDocument.Parse(run.Output).RootElement.GetProperty("plan").GetProperty("writes");
            Assert.Equal(ran.GetArrayLength(), planned.GetArrayLength());
            foreach (var (p, r) in planned.EnumerateArray().Zip(ran.EnumerateArray()))
            {
                foreach (var field in new[] { "pool", "sets", "segments", "bytes", "mediaNeeded" })
                    Assert.True(JsonElement.DeepEquals(p.GetProperty(field), r.GetProperty(field)), $"day {day}, {field}: planned {p.GetProperty(field)}, run {r.GetProperty(field)}");
            }

            if (day is 9 or 17 or 26)
            {
                foreach (var site in new[] { "primary", "offsite-a" })
                {
                    var target = _temp.Sub($"drill-{day}-{site}");
                    var drill = await Run("drill", "site-loss", site, "--execute", target, "--newest", "--json");
                    Assert.True(drill.ExitCode == 0, $"day {day}, {site}: {drill.Error}");
                    var result = JsonDocument.Parse(drill.Output).RootElement.Clone();
                    drills.Add((day, site, result));
                    foreach (var restored in Directory.GetDirectories(target))
                        AssertSameTree(DayOf(Path.GetFileName(restored)), restored);
                }
            }

            _clock.Advance(TimeSpan.FromDays(1));
        }

        // Losing the primary (the vault's own store with it) on day 17, a Sunday, still restores from off-site media and
        // from tonight's weekly, already with the courier; the newest restorable set is at most a week and a courier trip old.
        var primary17 = drills.Single(d => d.Day == 17 && d.Site == "primary").Result.GetProperty("recorded");
        Assert.True(primary17.GetProperty("setsRestored").GetInt32() >= 1);
        var newest = primary17.GetProperty("sources").GetProperty("web").GetProperty("newestRestorableSet").GetString()!;
        Assert.InRange(17 - DayOf(newest), 0, 8);
        Assert.InRange(9 - DayOf(drills.Single(d => d.Day == 9 && d.Site == "primary").Result.GetProperty("recorded").GetProperty("sources").GetProperty("web").GetProperty("newestRestorableSet").GetString()!), 1, 8);
        Assert.All(drills, d => Assert.Equal(0, d.Result.GetProperty("recorded").GetProperty("failures").GetArrayLength()));

        var media = JsonDocument.Parse((await Run("media", "list", "--json")).Output).RootElement.EnumerateArray().ToArray();
        Assert.Contains(media, m => m.GetProperty("pool").GetString() == "weekly" && m.GetProperty("site").GetString() == "offsite-a");
        Assert.Contains(media, m => m.GetProperty("pool").GetString() == "monthly" && m.GetProperty("site").GetString() == "offsite-b");
        Assert.Contains(media, m => m.GetProperty("pool").GetString() == "daily" && m.GetProperty("wear").GetInt32() == 2); // recycled and written again
        Assert.True(media.Count(m => m.GetProperty("pool").GetString() == "weekly" && m.GetProperty("spanIndex").GetInt32() > 0) > 0, "no full spanned onto a second medium");
        Assert.Equal(0, (await Run("log", "verify")).ExitCode);
        var tail = (await Run("log", "tail", "-n", "400")).Output;
        Assert.Contains("DrillRecorded.v1", tail);
        Assert.Contains("MediumRecycled.v1", tail);

        // Images read on their own: copy offsite-b's images somewhere else and restore from them without any vault.
        var alone = _temp.Sub("images-alone");
        Directory.CreateDirectory(alone);
        foreach (var image in Directory.GetFiles(_temp.Sub("offsite-b"), "*.vtape"))
            File.Copy(image, Path.Combine(alone, Path.GetFileName(image)));
        var scan = await CliRun.RunAtAsync(_clock, "media", "scan", "--images", alone, "--json");
        Assert.True(scan.ExitCode == 0, scan.Error);
        var onMonthly = JsonDocument.Parse(scan.Output).RootElement.GetProperty("sets").EnumerateArray().Select(s => s.GetProperty("setId").GetString()!).ToArray();
        Assert.Contains("night-03", onMonthly); // the first Sunday's monthly full
        var restoredAlone = await CliRun.RunAtAsync(_clock, "media", "restore", "night-03", "--images", alone, "--to", _temp.Sub("restored-alone"));
        Assert.True(restoredAlone.ExitCode == 0, restoredAlone.Error);
        AssertSameTree(3, _temp.Sub("restored-alone"));
    }

    /// <summary>
    /// 'rotation plan' shows what the read models say; a run writes what the log says. Someone with root on the primary
    /// who deletes a set's row from the read models hides it from the plan, not from tonight's media, and
    /// 'read-models verify' names the row.
    /// </summary>
    [Fact]
    public async Task a_run_writes_a_set_the_read_models_were_made_to_hide()
    {
        var keys = await InitWithDefaultPolicyAsync();
        _clock.SetUtcNow(new DateTimeOffset(2026, 1, 4, 20, 0, 0, TimeSpan.Zero)); // a first Sunday: every pool writes
        WriteTree(_temp.Sub("web"), 0);
        WriteTree(_temp.Sub("db"), 3);
        Assert.Equal(0, (await Run("push", _temp.Sub("web"), "--set", "web-00", "--source", "web", "--no-cache")).ExitCode);
        Assert.Equal(0, (await Run("push", _temp.Sub("db"), "--set", "db-00", "--source", "db", "--no-cache")).ExitCode);
        static string[] Planned(CliRun plan) => [.. JsonDocument.Parse(plan.Output).RootElement.GetProperty("writes").EnumerateArray()
            .SelectMany(w => w.GetProperty("sets").EnumerateArray().Select(x => x.GetString()!)).Distinct().Order(StringComparer.Ordinal)];
        var before = await Run("rotation", "plan", "--json");

        await using (var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_temp.Sub("vault"), "log.db.read")};Pooling=False"))
        {
            await db.OpenAsync();
            await using var tamper = db.CreateCommand();
            tamper.CommandText = "DELETE FROM sets WHERE set_id = 'db-00'";
            Assert.Equal(1, await tamper.ExecuteNonQueryAsync());
        }

        var fooled = await Run("rotation", "plan", "--json");
        var run = await Run("rotation", "run", "--json");
        var verify = await Run("read-models", "verify");

        Assert.Equal(["db-00", "web-00"], Planned(before));
        Assert.Equal(["web-00"], Planned(fooled));
        Assert.True(run.ExitCode == 0, run.Error);
        var written = JsonDocument.Parse(run.Output).RootElement.GetProperty("written").EnumerateArray().ToArray();
        Assert.Equal(JsonDocument.Parse(run.Output).RootElement.GetProperty("plan").GetProperty("writes").GetArrayLength(), written.Length);
        Assert.True(written.Length >= 2, run.Output); // the first Sunday: the weekly and the monthly full
        Assert.All(written, w => Assert.Contains("db-00", w.GetProperty("sets").EnumerateArray().Select(x => x.GetProperty("setId").GetString())));
        Assert.Equal(10, verify.ExitCode);
        Assert.Contains("db-00", verify.Output);
    }

    /// <summary>
    /// The media inventory that 'media list' and 'rotation plan' show is the rotation's fold cached beside the read
    /// models. A cache taken from another log (its last record is not this log's) is not used; one edited in place
    /// (root on the primary: a medium "recycled" in the cache) changes what is shown, not what a run erases;
    /// 'read-models verify' names the medium and 'read-models rebuild' drops the cache.
    /// </summary>
    [Fact]
    public async Task an_edited_or_foreign_media_inventory_changes_what_is_shown_and_never_what_a_run_erases()
    {
        var keys = await InitWithDefaultPolicyAsync();
        _clock.SetUtcNow(new DateTimeOffset(2026, 1, 5, 20, 0, 0, TimeSpan.Zero)); // a Monday: the daily incremental
        WriteTree(_temp.Sub("web"), 0);
        Assert.Equal(0, (await Run("push", _temp.Sub("web"), "--set", "web-00", "--source", "web", "--no-cache")).ExitCode);
        Assert.Equal(0, (await Run("rotation", "run")).ExitCode);
        static JsonElement Medium(CliRun list, string label) => JsonDocument.Parse(list.Output).RootElement.EnumerateArray().Single(m => m.GetProperty("label").GetString() == label);
        var before = await Run("media", "list", "--json"); // caches the fold
        Assert.True(Medium(before, "D00001").GetProperty("state").GetInt32() == (int)Rotation.Core.MediumState.Full, before.Output);

        // Edited in place: D00001 shown as recycled and blank.
        var db = Path.Combine(_temp.Sub("vault"), "log.db.read");
        string content;
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={db};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var read = connection.CreateCommand();
            read.CommandText = "SELECT content FROM snapshots WHERE name = 'rotation'";
            content = (string)(await read.ExecuteScalarAsync())!;
            var edited = System.Text.Json.Nodes.JsonNode.Parse(content)!;
            var medium = edited["state"]!["media"]!.AsArray().Single(m => m!["label"]!.GetValue<string>() == "D00001")!;
            medium["state"] = "Recycled";
            medium["writeId"] = null;
            medium["wear"] = 0; // so a planner trusting it would pick D00001 first for tonight
            await using var write = connection.CreateCommand();
            write.CommandText = "UPDATE snapshots SET content = $c WHERE name = 'rotation'";
            write.Parameters.AddWithValue("$c", edited.ToJsonString());
            Assert.Equal(1, await write.ExecuteNonQueryAsync());
        }

        var fooled = await Run("media", "list", "--json");
        _clock.Advance(TimeSpan.FromDays(1));
        WriteTree(_temp.Sub("web"), 1);
        Assert.Equal(0, (await Run("push", _temp.Sub("web"), "--set", "web-01", "--source", "web", "--no-cache")).ExitCode);
        var run = await Run("rotation", "run", "--json"); // erases nothing still needed: it replays the log
        var after = await Run("media", "list", "--json");
        var verify = await Run("read-models", "verify");
        var rebuild = await Run("read-models", "rebuild");
        var rebuilt = await Run("media", "list", "--json");

        // Foreign: the cache points at a position whose record is not the rotation record it names.
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={db};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var write = connection.CreateCommand();
            write.CommandText = "UPDATE snapshots SET content = $c, position = 1 WHERE name = 'rotation'";
            write.Parameters.AddWithValue("$c", content.Replace("\"Full\"", "\"Lost\"", StringComparison.Ordinal));
            Assert.Equal(1, await write.ExecuteNonQueryAsync());
        }

        var foreign = await Run("media", "list", "--json");

        Assert.Equal((int)Rotation.Core.MediumState.Recycled, Medium(fooled, "D00001").GetProperty("state").GetInt32());
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.DoesNotContain("D00001", JsonDocument.Parse(run.Output).RootElement.GetProperty("plan").GetProperty("recycle").EnumerateArray().Select(l => l.GetString()));
        var writtenOn = JsonDocument.Parse(run.Output).RootElement.GetProperty("written").EnumerateArray().SelectMany(w => w.GetProperty("media").EnumerateArray().Select(m => m.GetProperty("label").GetString())).ToArray();
        Assert.NotEmpty(writtenOn); // Tuesday's incremental was written, and not over D00001, which still holds Monday's
        Assert.DoesNotContain("D00001", writtenOn);
        // The cache goes on from what it holds (as the read models do) until verify names it and a rebuild drops it.
        Assert.Equal((int)Rotation.Core.MediumState.Recycled, Medium(after, "D00001").GetProperty("state").GetInt32());
        Assert.Equal(10, verify.ExitCode);
        Assert.Contains("medium D00001: the rotation's cached media inventory says", verify.Output);
        Assert.Equal(0, rebuild.ExitCode);
        Assert.Equal((int)Rotation.Core.MediumState.Full, Medium(rebuilt, "D00001").GetProperty("state").GetInt32());
        Assert.Equal((int)Rotation.Core.MediumState.Full, Medium(foreign, "D00001").GetProperty("state").GetInt32());
        Assert.Equal(0, (await Run("read-models", "verify")).ExitCode);
    }

    [Fact]
    public async Task a_flipped_byte_in_an_image_is_caught_by_its_checksum_and_the_restore_falls_back_to_another_copy()
    {
        var keys = await TestApprovers.CreateAsync(_temp.Sub("keys"), "alice", "bob");
        Assert.Equal(0, (await CliRun.RunAtAsync(_clock, ["init", "--vault", _temp.Sub("vault"), .. keys.InitArguments])).ExitCode);
        Assert.Equal(0, (await Run("rotation", "configure")).ExitCode);
        for (var day = 0; day < 4; day++) // Thursday to Sunday: the Sunday writes a weekly and a monthly full
        {
            WriteTree(_temp.Sub("source"), day);
            Assert.Equal(0, (await Run("push", _temp.Sub("source"), "--set", $"night-{day:D2}", "--source", "web", "--no-cache")).ExitCode);
            Assert.Equal(0, (await Run("rotation", "run")).ExitCode);
            _clock.Advance(TimeSpan.FromDays(1));
        }

        var primary = Path.Combine(_temp.Sub("vault"), "sites", "primary");
        var weekly = Path.Combine(primary, "W00001.vtape");
        var monthly = Path.Combine(primary, "M00001.vtape");
        var bytes = await File.ReadAllBytesAsync(weekly);
        bytes[bytes.Length / 2] ^= 0x20; // inside some segment record
        await File.WriteAllBytesAsync(weekly, bytes);

        var scan = await CliRun.RunAtAsync(_clock, "media", "scan", "--images", weekly);
        var onlyDamaged = await CliRun.RunAtAsync(_clock, "media", "restore", "night-03", "--images", weekly, "--to", _temp.Sub("r1"));
        var withOtherCopy = await CliRun.RunAtAsync(_clock, "media", "restore", "night-03", "--images", weekly, monthly, "--to", _temp.Sub("r2"));

        Assert.Equal(10, scan.ExitCode);
        Assert.Contains("fails its checksum", scan.Output);
        Assert.Equal(6, onlyDamaged.ExitCode);
        Assert.Contains("on none of the surviving media", onlyDamaged.Error);
        onlyDamaged.AssertNoStackTrace();
        Assert.True(withOtherCopy.ExitCode == 0, withOtherCopy.Error);
        Assert.Contains("1 damaged records skipped", withOtherCopy.Output);
        AssertSameTree(3, _temp.Sub("r2"));
    }

    [Fact]
    public async Task a_policy_file_with_mistakes_is_refused_with_every_problem_named_and_nothing_recorded()
    {
        var keys = await TestApprovers.CreateAsync(_temp.Sub("keys"), "alice", "bob");
        Assert.Equal(0, (await CliRun.RunAtAsync(_clock, ["init", "--vault", _temp.Sub("vault"), .. keys.InitArguments])).ExitCode);
        var policy = Rotation.Core.RotationPolicy.Default().ToJson().Replace("\"site\": \"offsite-b\"", "\"site\": \"offsite-c\"", StringComparison.Ordinal).Replace("\"keepDays\": 14", "\"keepDays\": 0", StringComparison.Ordinal);
        await File.WriteAllTextAsync(_temp.Sub("bad.json"), policy);
        await File.WriteAllTextAsync(_temp.Sub("garbage.json"), "{ \"format\": ");

        var bad = await Run("rotation", "configure", "--policy", _temp.Sub("bad.json"));
        var garbage = await Run("rotation", "configure", "--policy", _temp.Sub("garbage.json"));
        var missing = await Run("rotation", "configure", "--policy", _temp.Sub("nope.json"));
        var plan = await Run("rotation", "plan");

        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("keepDays must be at least 1", bad.Error);
        Assert.Contains("site 'offsite-c' is not defined", bad.Error);
        Assert.Equal(2, garbage.ExitCode);
        Assert.Contains("not a valid policy document", garbage.Error);
        Assert.Equal(2, missing.ExitCode);
        Assert.Equal(2, plan.ExitCode);
        Assert.Contains("not set up", plan.Error);
        bad.AssertNoStackTrace();
    }

    [Fact]
    public async Task media_are_shipped_received_and_lost_by_hand_and_a_lost_medium_no_longer_counts()
    {
        var keys = await InitWithDefaultPolicyAsync();
        _clock.SetUtcNow(new DateTimeOffset(2026, 1, 4, 20, 0, 0, TimeSpan.Zero)); // a first Sunday
        WriteTree(_temp.Sub("source"), 0);
        Assert.Equal(0, (await Run("push", _temp.Sub("source"), "--set", "night-00", "--source", "web", "--no-cache")).ExitCode);
        Assert.Equal(0, (await Run("rotation", "run")).ExitCode);

        var plan = await Run("rotation", "plan");
        var ship = await Run("media", "ship", "W00001");
        var receiveEarly = await Run("media", "ship", "W00001");
        _clock.Advance(TimeSpan.FromDays(1));
        var overdueNot = await Run("rotation", "plan");
        var receive = await Run("media", "receive", "W00001");
        var loseAlone = await Run("media", "lose", "M00001", "--reason", "dropped in the river");
        // A medium still needed is recorded lost only under the quorum (its copies stop counting).
        var propose = await Run(["rotation", "propose", "--lose", "M00001", "--reason", "dropped in the river", "--id", "rot-lose", .. keys.As("alice")]);
        var approve = await Run(["request", "approve", "rot-lose", .. keys.As("bob")]);
        _clock.Advance(TimeSpan.FromDays(7)); // twice the default cooling-off delay of 72 h, and more
        var lose = await Run("request", "execute", "rot-lose");
        var drill = await Run("drill", "site-loss", "primary", "--json");
        var retireBusy = await Run("media", "retire", "W00001", "--reason", "x");
        var unknown = await Run("media", "show", "X99999");

        Assert.Contains("ship     W00001 primary -> offsite-a", plan.Output);
        Assert.Contains("ship     M00001 primary -> offsite-b", plan.Output);
        Assert.True(ship.ExitCode == 0, ship.Error);
        Assert.Equal(7, receiveEarly.ExitCode);
        Assert.Contains("arrive   W00001", overdueNot.Output);
        Assert.True(receive.ExitCode == 0, receive.Error);
        Assert.True(File.Exists(Path.Combine(_temp.Sub("offsite-a"), "W00001.vtape")));
        Assert.Equal(11, loseAlone.ExitCode);
        Assert.Equal([0, 0], new[] { propose.ExitCode, approve.ExitCode });
        Assert.True(lose.ExitCode == 0, lose.Error);
        Assert.Equal((int)Rotation.Core.MediumState.Lost, JsonDocument.Parse((await Run("media", "show", "M00001", "--json")).Output).RootElement.GetProperty("state").GetInt32());
        var survival = JsonDocument.Parse(drill.Output).RootElement.GetProperty("sets")[0];
        Assert.Equal("W00001", survival.GetProperty("fromMedia")[0].GetProperty("label").GetString());
        Assert.Equal(7, retireBusy.ExitCode);
        Assert.Contains("holds data needed until", retireBusy.Error);
        Assert.Equal(3, unknown.ExitCode);
    }

    [Fact]
    public async Task a_site_with_its_own_root_receives_its_images_there()
    {
        var keys = await TestApprovers.CreateAsync(_temp.Sub("keys"), "alice", "bob");
        Assert.Equal(0, (await CliRun.RunAtAsync(_clock, ["init", "--vault", _temp.Sub("vault"), .. keys.InitArguments])).ExitCode);
        var mount = _temp.Sub("mnt-offsite-a");
        var policy = Rotation.Core.RotationPolicy.Default();
        policy = policy with { Sites = [.. policy.Sites.Select(s => s.Name == "offsite-a" ? s with { Root = mount } : s)] };
        await File.WriteAllTextAsync(_temp.Sub("policy.json"), policy.ToJson());
        Assert.Equal(0, (await Run("rotation", "configure", "--policy", _temp.Sub("policy.json"))).ExitCode);
        _clock.SetUtcNow(new DateTimeOffset(2026, 1, 4, 20, 0, 0, TimeSpan.Zero)); // a Sunday: a weekly full for offsite-a
        WriteTree(_temp.Sub("source"), 0);
        Assert.Equal(0, (await Run("push", _temp.Sub("source"), "--set", "night-00", "--source", "web", "--no-cache")).ExitCode);

        Assert.Equal(0, (await Run("rotation", "run", "--courier")).ExitCode);
        _clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(0, (await Run("rotation", "run", "--courier")).ExitCode);

        Assert.True(File.Exists(Path.Combine(mount, "W00001.vtape")));
        Assert.False(Directory.Exists(Path.Combine(_temp.Sub("vault"), "sites", "offsite-a")) && Directory.GetFiles(Path.Combine(_temp.Sub("vault"), "sites", "offsite-a")).Length > 0);
        var drill = await Run("drill", "site-loss", "primary", "--execute", _temp.Sub("drill"));
        Assert.True(drill.ExitCode == 0, drill.Error);
        AssertSameTree(0, Path.Combine(_temp.Sub("drill"), "night-00"));
    }
}
