using Rotation.Core;

namespace Rotation.Tests;

/// <summary>A rotation record that names no medium (malformed, or written behind the vault's back) changes nothing and throws nothing.</summary>
public sealed class MalformedEventTests
{
    [Fact]
    public void a_record_without_a_label_or_for_an_unknown_medium_leaves_the_state_as_it_was()
    {
        var day = new DateOnly(2026, 1, 4);
        var state = RotationState.Fold([
            new MediumLabeled("W00001", "weekly", 1 << 30, 100, "primary", day),
            new MediumShipped(null!, "primary", "offsite-a", day, day.AddDays(1)),
            new MediumRecycled(null!, day, "x"),
            new MediumShipped("W99999", "primary", "offsite-a", day, day.AddDays(1)),
        ]);

        var medium = Assert.Single(state.Media.Values);
        Assert.Equal(MediumState.Scratch, medium.State);
        Assert.Equal("primary", medium.Site);
        Assert.Equal(4, state.EventCount);
    }
}
