using Vault.Storage.Segments;

namespace Vault.Storage.Tests.Segments;

/// <summary>Of many writers giving a segment file its final name at once, exactly one wins, every time.</summary>
public sealed class PublishTests : IDisposable
{
    private readonly string _dir = System.IO.Directory.CreateTempSubdirectory("vault-publish-").FullName;

    public void Dispose() => System.IO.Directory.Delete(_dir, recursive: true);

    [Fact]
    public void eight_threads_publishing_one_name_have_exactly_one_winner_in_each_of_200_races()
    {
        for (var round = 0; round < 200; round++)
        {
            var final = Path.Combine(_dir, $"segment-{round}");
            var temps = Enumerable.Range(0, 8).Select(i => Path.Combine(_dir, $".tmp-{round}-{i}")).ToArray();
            foreach (var temp in temps)
            {
                File.WriteAllBytes(temp, [(byte)round]);
                File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            }

            using var go = new ManualResetEventSlim();
            var wins = 0;
            var threads = temps.Select(t => new Thread(() =>
            {
                go.Wait();
                if (FileSegmentStore.Publish(t, final))
                    Interlocked.Increment(ref wins);
            })).ToArray();
            foreach (var thread in threads)
                thread.Start();
            go.Set();
            foreach (var thread in threads)
                thread.Join();

            Assert.True(wins == 1, $"round {round}: {wins} writers published {final}");
            Assert.True(File.Exists(final));
        }
    }
}
