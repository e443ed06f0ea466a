using System.Diagnostics;
using System.Globalization;
using Vault.Core.Checkpoints;
using Vault.Core.Governance;
using Vault.Core.Log;
using Vault.Core.Sets;
using Vault.Core.Vaults;
using Vault.Services;
using Vault.Storage.Log;
using Vault.Storage.Sqlite;

/// <summary>
/// 'verify' mode: a realistic history of N records (about 96% set and segment records, the rest signed deletion
/// requests, holds, retention extensions, rotation records and checkpoints every 10,000 records), then verification of
/// meaning, chain-only verification, and the cost of one more checkpoint at that size. Figures only; a history the
/// verifier does not find intact is reported, since then the generator or the verifier is wrong.
/// </summary>
public static class VerifyBenchmark
{
    public static async Task RunAsync(long total)
    {
        // VERIFY_DB=DIR keeps the generated history there and reuses it on the next run (for profiling the verify alone).
        var keep = Environment.GetEnvironmentVariable("VERIFY_DB");
        var dir = keep ?? Directory.CreateTempSubdirectory("vault-bench-verify-").FullName;
        var reuse = keep is not null && File.Exists(Path.Combine(dir, "log.db"));
        Directory.CreateDirectory(dir);
        var clock = new ManualClock(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var (alice, bob) = (Ed25519.CreateKeyPair(), Ed25519.CreateKeyPair());
        var (checkpointPrivate, checkpointPublic) = Ed25519.CreateKeyPair();
        var rules = new GovernanceRules([new Approver("alice", alice.PublicKey), new Approver("bob", bob.PublicKey)], 2, TimeSpan.FromHours(1), TimeSpan.FromDays(14), TimeSpan.FromHours(1));
        const string vaultId = "0123456789abcdef0123456789abcdef";
        await using var log = new GroupCommitEventLog(await SqliteLogBackend.OpenAsync(Path.Combine(dir, "log.db"), create: true), new GroupCommitOptions { Clock = clock });
        if (!reuse)
            await log.AppendAsync(VaultStreams.Vault, ExpectedVersion.NoStream, [new VaultCreated(vaultId, 1, clock.GetUtcNow(), GovernanceDocument.From(rules), Convert.ToHexStringLower(checkpointPublic)).ToEventData("bench")]);
        var checkpointer = new Checkpointer(log, vaultId, checkpointPrivate, clock);

        var started = Stopwatch.GetTimestamp();
        long written = 1, set = 0, requests = 0, rotation = 0, checkpoints = 0;
        var sealedSets = new List<string>();
        var nextCheckpoint = 10_000L;
        while (!reuse && written < total)
        {
            // One backup set: opened, 200 segments, sealed.
            var id = $"night-{set++:D6}";
            var batch = new List<(string Stream, EventData Data)> { (SetStreams.Of(id), EventCodec.Encode(new SetOpened(id, "web", id, "tree", new Dictionary<string, string>(), clock.GetUtcNow()), "ingest")) };
            for (var seq = 0; seq < 200; seq++)
                batch.Add((SetStreams.OfSegment(id, seq), EventCodec.Encode(new SegmentStored(id, seq, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(set * 1000 + seq))), 2_000_000, 900_000, seq % 3 == 0, clock.GetUtcNow()), "ingest")));
            await log.AppendAsync(batch[0].Stream, ExpectedVersion.NoStream, [batch[0].Data]);
            await Task.WhenAll(batch.Skip(1).Select(b => log.AppendAsync(b.Stream, ExpectedVersion.NoStream, [b.Data]))); // one group commit

            await log.AppendAsync(SetStreams.Of(id), ExpectedVersion.Exactly(0), [EventCodec.Encode(new SetSealed(id, new string('a', 64), 1000, 200, 10, 400_000_000, clock.GetUtcNow() + rules.MinimumRetention, clock.GetUtcNow()), "ingest")]);
            sealedSets.Add(id);
            written += 202;
            clock.Advance(TimeSpan.FromMinutes(10));

            // Every 3rd set: a rotation record; every 5th: a signed deletion of an old set, approved and executed after the delay.
            if (set % 3 == 0)
            {
                await log.AppendAsync("rotation", ExpectedVersion.Any, [new EventData("MediumShipped.v1", "{\"label\":\"W00001\",\"from\":\"primary\",\"to\":\"offsite-a\",\"date\":\"2026-01-01\",\"arrivesBy\":\"2026-01-02\"}"u8.ToArray(), """{"actor":"bench"}"""u8.ToArray())]);
                written++;
                rotation++;
            }

            if (set % 5 == 0 && sealedSets.Count > 10)
            {
                var target = sealedSets[0];
                sealedSets.RemoveAt(0);
                var request = $"del-{requests++:D6}";
                var digest = SigningPayload.TargetsDigest([target]);
                var head = await log.ReadHeadAsync();
                var seen = new Witness(head.Position, head.HashHex);
                var requested = new RequestOpened(request, [target], digest, "old", "alice", Sign(alice.PrivateKey, vaultId, SignedAction.Request, request, digest, seen), clock.GetUtcNow(), SeenPosition: seen.Position, SeenHead: seen.Head);
                var approved = new RequestApproved(request, "bob", Sign(bob.PrivateKey, vaultId, SignedAction.Approve, request, digest, seen), clock.GetUtcNow(), seen.Position, seen.Head);
                var quorum = new RequestQuorumReached(request, ["alice", "bob"], clock.GetUtcNow() + rules.CoolingOff, clock.GetUtcNow());
                await log.AppendAsync(DeletionService.StreamOf(request), ExpectedVersion.NoStream, [EventCodec.Encode(requested, "alice"), EventCodec.Encode(approved, "bob"), EventCodec.Encode(quorum, "bob")]);
                clock.Advance(rules.CoolingOff + TimeSpan.FromMinutes(1));
                await log.AppendAsync(DeletionService.StreamOf(request), ExpectedVersion.Exactly(2), [EventCodec.Encode(new RequestExecuted(request, [target], [], clock.GetUtcNow()), "scheduler")]);
                written += 4;
            }

            if (written >= nextCheckpoint)
            {
                await checkpointer.AppendAsync(CancellationToken.None);
                written++;
                checkpoints++;
                nextCheckpoint += 10_000;
            }
        }

        var generated = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var head2 = await log.ReadHeadAsync();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"history: {head2.Position:N0} records ({set:N0} sets of 202 records, {requests:N0} signed deletions executed, {rotation:N0} rotation records, {checkpoints:N0} checkpoints), generated in {generated:F1} s"));

        if (Environment.GetEnvironmentVariable("VERIFY_PROBE") is "chain" or "meaning")
        {
            for (var run = 0; run < 10; run++)
            {
                var t0 = Stopwatch.GetTimestamp();
                var c0 = Process.GetCurrentProcess().TotalProcessorTime;
                var report = await LogVerifier.VerifyAsync(log, observer: Environment.GetEnvironmentVariable("VERIFY_PROBE") == "meaning" ? new HistoryVerifier(new HashSet<string>(["MediumShipped.v1"], StringComparer.Ordinal), []) : null);
                Console.WriteLine($"chain: {report.Checked} in {Stopwatch.GetElapsedTime(t0).TotalSeconds:F3} s, {(Process.GetCurrentProcess().TotalProcessorTime - c0).TotalSeconds:F3} CPU-s");
            }

            return;
        }

        if (Environment.GetEnvironmentVariable("VERIFY_PROBE") == "scan")
        {
            var rawScan = log.RawScan!;
            for (var run = 0; run < 8; run++)
            {
                var t0 = Stopwatch.GetTimestamp();
                var c0 = Process.GetCurrentProcess().TotalProcessorTime;
                var v = new CountingVisitor(run % 2 == 1);
                var to = head2.Position;
                using (var cursor = rawScan.OpenCursor())
                {
                    for (long s = 1; s <= to; s += 1024)
                        cursor.Scan(s, Math.Min(to, s + 1023), v, CancellationToken.None);
                }
                Console.WriteLine($"scan{(run % 2 == 1 ? "+hash" : "")}: {v.Count} in {Stopwatch.GetElapsedTime(t0).TotalSeconds:F3} s, {(Process.GetCurrentProcess().TotalProcessorTime - c0).TotalSeconds:F3} CPU-s, {v.Bad} bad");
            }

            return;
        }

        // The first verification of meaning in a fresh process, as one 'vault log verify' runs: JIT included.
        var coldStarted = Stopwatch.GetTimestamp();
        var cold = await LogVerifier.VerifyAsync(log, observer: new HistoryVerifier(new HashSet<string>(["MediumShipped.v1"], StringComparer.Ordinal), []));
        var coldSeconds = Stopwatch.GetElapsedTime(coldStarted).TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"cold (first pass in the process, page cache warm from generating): chain and meaning {cold.Checked:N0} records in {coldSeconds:F2} s = {cold.Checked / coldSeconds:N0} records/s"));

        // Warm the page cache and the JIT for both modes once, then time each mode three times.
        await LogVerifier.VerifyAsync(log);
        for (var run = 1; run <= 3; run++)
        {
            started = Stopwatch.GetTimestamp();
            var readers = int.TryParse(Environment.GetEnvironmentVariable("VERIFY_READERS"), out var r) ? r : (int?)null;
            var chainCpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            var chain = await LogVerifier.VerifyAsync(log, readers: readers);
            var chainSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var chainCpu = (Process.GetCurrentProcess().TotalProcessorTime - chainCpu0).TotalSeconds;
            var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            started = Stopwatch.GetTimestamp();
            var verifier = new HistoryVerifier(new HashSet<string>(["MediumShipped.v1"], StringComparer.Ordinal), []);
            var meaning = await LogVerifier.VerifyAsync(log, observer: verifier, readers: readers);
            verifier.Finish(meaning.Head);
            var meaningSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var meaningCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"run {run}: chain only {chain.Checked:N0} records in {chainSeconds:F2} s ({chainCpu:F2} CPU-s) = {chain.Checked / chainSeconds:N0} records/s ({(chain.Intact ? "intact" : "BROKEN")}); "
                + $"chain and meaning in {meaningSeconds:F2} s ({meaningCpu:F2} CPU-s) = {meaning.Checked / meaningSeconds:N0} records/s ({verifier.FindingCount} findings{(verifier.FindingCount > 0 ? ": " + verifier.Findings[0].Detail : "")})"));
        }

        // Inclusion proofs as 'vault audit prove' makes them: from the block-root cache (built once), checked against
        // the signed root of the checkpoint that covers the record. Warm process, 20 random records.
        {
            var signedHeads = new List<CheckpointRecorded>();
            await foreach (var r in log.ReadStreamAsync(CheckpointRecorded.Stream, 0))
                if (EventCodec.TryDecode(r) is (CheckpointRecorded c, null))
                    signedHeads.Add(c);
            var latest = signedHeads[^1];
            started = Stopwatch.GetTimestamp();
            await MerkleBlockCache.LoadAsync(dir, log, latest.Position, CancellationToken.None);
            var build = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var random = new Random(11);
            var proofs = new List<double>();
            for (var i = 0; i < 21; i++)
            {
                var position = random.NextInt64(1, latest.Position + 1);
                var checkpoint = signedHeads.Where(c => c.Position >= position).MinBy(c => c.Position)!;
                started = Stopwatch.GetTimestamp();
                var blocks = await MerkleBlockCache.LoadAsync(dir, log, checkpoint.Position, CancellationToken.None);
                var roots = new BlockRoots(blocks, checkpoint.Position, (from, count) => MerkleBlockCache.ReadHashes(log, from + 1, count, CancellationToken.None));
                var path = MerkleProofs.Inclusion(roots, position - 1, checkpoint.Position);
                var hash = MerkleBlockCache.ReadHashes(log, position, 1, CancellationToken.None)[0];
                if (!MerkleProofs.VerifyInclusion(hash, position - 1, checkpoint.Position, path, Convert.FromHexString(checkpoint.MerkleRoot)))
                    throw new InvalidOperationException($"the proof of {position} does not hold");
                if (i > 0)
                    proofs.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }

            proofs.Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"inclusion proof (cache of {latest.Position / BlockRoots.BlockSize:N0} block roots built in {build:F0} ms, once): min {proofs[0]:F2} ms, median {proofs[proofs.Count / 2]:F2} ms, max {proofs[^1]:F2} ms ({proofs.Count} records, each checked against its checkpoint's signed root)"));
        }

        // One more checkpoint at this size: it resumes from the last one's compact range.
        var costs = new List<double>();
        for (var i = 0; i < (reuse ? 0 : 5); i++)
        {
            for (var k = 0; k < 100; k++)
                await log.AppendAsync("rotation", ExpectedVersion.Any, [new EventData("MediumShipped.v1", "{}"u8.ToArray(), "{}"u8.ToArray())]);
            started = Stopwatch.GetTimestamp();
            await checkpointer.AppendAsync(CancellationToken.None);
            costs.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        if (costs.Count == 0)
            return;
        costs.Sort();
        var size = (await log.ReadHeadAsync()).Position;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"checkpoint at {size:N0} records, 100 records after the last one: min {costs[0]:F2} ms, median {costs[2]:F2} ms, max {costs[^1]:F2} ms (5 runs)"));
        if (keep is null)
            Directory.Delete(dir, recursive: true);
    }

    private static string Sign(byte[] key, string vaultId, SignedAction action, string request, string digest, Witness seen) =>
        Convert.ToHexStringLower(Ed25519.Sign(key, SigningPayload.For(vaultId, action, request, digest, seen)));

    private sealed class CountingVisitor(bool hash) : IStoredRecordVisitor
    {
        public long Count;
        public long Bad;

        public void Visit(in StoredRecord record)
        {
            Count++;
            if (hash && !record.HashMatches())
                Bad++;
        }
    }
}
