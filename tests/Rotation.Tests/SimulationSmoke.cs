using Rotation.Core;
using Xunit.Abstractions;

namespace Rotation.Tests;

public sealed class SimulationSmoke(ITestOutputHelper output)
{
    [Fact]
    public void prints()
    {
        var report = Simulator.Run(RotationPolicy.Default(), new SimulationOptions(new DateOnly(2026, 1, 5), 365));
        output.WriteLine(System.Text.Json.JsonSerializer.Serialize(report, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
    }
}
