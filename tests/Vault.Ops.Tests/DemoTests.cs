namespace Vault.Ops.Tests;

/// <summary>The README's first command stays true: the demo runs end to end and its drill restore matches the vault's copy.</summary>
public sealed class DemoTests : IDisposable
{
    private readonly TempDir _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task the_demo_runs_its_whole_story_and_the_restore_from_images_is_identical()
    {
        var run = await CliRun.RunAsync("demo", "--work", _temp.Sub("demo"), "--nights", "16");

        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        Assert.Contains("exit 11: Refused (DuplicateApproval)", run.Output);
        Assert.Contains("exit 11: Refused (UnknownApprover)", run.Output);
        Assert.Contains("byte-for-byte identical to the vault's own copy", run.Output);
        Assert.Contains("intact:", run.Output);
        Assert.True(Directory.GetFiles(Path.Combine(_temp.Sub("demo"), "offsite-a"), "*.vtape").Length > 0);
        Assert.Contains("also     lost with primary: in transit", run.Output);
    }

    [Fact]
    public async Task the_demo_refuses_a_work_directory_that_is_not_empty()
    {
        Directory.CreateDirectory(_temp.Sub("busy"));
        await File.WriteAllTextAsync(Path.Combine(_temp.Sub("busy"), "keep.txt"), "mine");

        var run = await CliRun.RunAsync("demo", "--work", _temp.Sub("busy"));

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("not empty", run.Error);
        Assert.Equal("mine", await File.ReadAllTextAsync(Path.Combine(_temp.Sub("busy"), "keep.txt")));
    }
}
