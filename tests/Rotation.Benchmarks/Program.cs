// Rotation speed, printed as figures (docs/benchmarks.md). Not a test: nothing here passes or fails.
// Usage: dotnet run -c Release --project tests/Rotation.Benchmarks -- [--years N] [--media N] [--sources N]
// 1. Simulates N years (default 10) of nightly backups and rotation with about 1,000 media in the pools.
//    dotnet run -c Release --project tests/Rotation.Benchmarks -- custodian VAULT_DLL [MIB]  (ops/bench-custodian.sh)
//    dotnet run -c Release --project tests/Rotation.Benchmarks -- vault [--years N] [--runs R]  (planning a day against a real vault)
// 2. Plans the next day from that history: folding every event of the log into state, then the planner itself.
using System.Diagnostics;
using System.Globalization;
using Rotation.Core;

if (args.FirstOrDefault() == "vault")
{
    // Planning a day against a real SQLite vault with that history (docs/benchmarks.md): [--years N] [--runs R]
    await VaultPlanBenchmark.RunAsync(Option("--years", 10), Option("--runs", 10));
    return;
}

if (args.FirstOrDefault() == "custodian")
{
    // ops/bench-custodian.sh: a real custodian receiving and serving an image over loopback.
    await CustodianBenchmark.RunAsync(args[1], args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1024);
    return;
}

var years = Option("--years", 10);
var mediaTotal = Option("--media", 1000);
var sources = Option("--sources", 3);
var days = years * 365 + years / 4;
var template = RotationPolicy.Default(capacityBytes: 256L << 20);
var policy = template with
{
    Pools =
    [
        template.Pools[0] with { Media = mediaTotal * 3 / 10 },
        template.Pools[1] with { Media = mediaTotal * 3 / 10 },
        template.Pools[2] with { Media = mediaTotal - 2 * (mediaTotal * 3 / 10) },
    ],
};
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rotation benchmark: {years} years ({days} days), {mediaTotal} media, {sources} sources, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd}"));

var events = new List<IRotationEvent>();
var start = new DateOnly(2016, 1, 4);
var watch = Stopwatch.StartNew();
RotationState? final = null;
IReadOnlyList<SetInfo>? sets = null;
var report = Simulator.Run(policy, new SimulationOptions(start, days, Sources: sources, SegmentsPerSet: 40), (_, state, all, _) => (final, sets) = (state, all), events.Add);
var simulate = watch.Elapsed.TotalSeconds;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"simulate {days} days: {simulate:N2} s ({days / simulate:N0} days/s); {events.Count:N0} events, {report.Sets:N0} sets, {final!.Media.Count:N0} media, {report.Writes:N0} writes"));

var next = start.AddDays(days);
while (next.DayOfWeek != DayOfWeek.Sunday)
    next = next.AddDays(1); // a Sunday: the weekly (and on the first Sunday the monthly) full is planned too
Planner.Plan(final, sets!, next); // warm-up
const int rounds = 20;
var fold = new List<double>();
var plan = new List<double>();
for (var i = 0; i < rounds; i++)
{
    var t = Stopwatch.GetTimestamp();
    var state = RotationState.Fold(events);
    fold.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
    t = Stopwatch.GetTimestamp();
    var result = Planner.Plan(state, sets!, next);
    plan.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
    if (i == 0)
        Console.WriteLine($"plan for {next:yyyy-MM-dd}: {result.Writes.Count} writes, {result.Shipments.Count} shipments, {result.Recalls.Count} recalls, {result.Warnings.Count} warnings");
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fold the log into state: median {Median(fold):N1} ms, worst {fold.Max():N1} ms ({events.Count:N0} events)"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"plan one day:            median {Median(plan):N1} ms, worst {plan.Max():N1} ms ({final.Media.Count:N0} media, {sets!.Count:N0} sets)"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"plan from the log:       median {Median(fold.Zip(plan, (a, b) => a + b).ToList()):N1} ms"));

int Option(string name, int fallback) => args.SkipWhile(a => a != name).Skip(1).Select(v => int.Parse(v, CultureInfo.InvariantCulture)).FirstOrDefault(fallback);
static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
