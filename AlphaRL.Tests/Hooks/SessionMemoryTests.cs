using AlphaRl.Extrapolation;
using AlphaRl.TorchSharp;
using AlphaRl.TorchSharp.Jumps;
using AlphaRl.TorchSharp.Session;
using AlphaRl.TorchSharp.Tracking;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AlphaRl.Tests.Hooks;

/// <summary>
/// The memory a session reports per jump method, as the session-memory table of docs/performance.md and
/// performance-summary.json's velocity_state_over_moved_bytes read it.
/// </summary>
public class SessionMemoryTests
{
    [TestCase(ScalarType.Float32, 2)]
    [TestCase(ScalarType.BFloat16, 4)]
    public void VelocityState_IsTwoFloat32CopiesOfTheMovedMatrices_AndTheOtherMethodsHoldNone(ScalarType dtype, int timesWeights)
    {
        using var generator = new Generator(5UL);
        var parameters = new[] { (24, 16), (16, 40) }.Select(s => new Parameter((randn(s.Item1, s.Item2, generator: generator) * 0.02).to(dtype))).ToList();
        var covered = parameters.Select((p, i) => new CoveredMatrix($"layers.{i}.mlp.up_proj.weight", p)).ToList();
        var tracker = new TorchSubspaceTracker(covered);
        var context = new JumpMethodContext(tracker, new StepLineExtrapolator(), () => new List<(string, Parameter)>(), CopiesOnCpu: false);
        var methods = new JumpMethodOptions[] { new VelocityJumpOptions(), new Rank1LineJumpOptions(), new DirectionJumpOptions() }.Select(m => m.Create(context)).ToList();
        using var window = new SnapshotWindow(tracker, methods, 16, () => 0); // owns the tracker and the methods
        window.Clear(0);
        for (int s = 1; s <= 3; s++)
        {
            using (no_grad())
                foreach (var p in parameters) p.add_((randn(p.shape, generator: generator) * 1e-3).to(dtype));
            window.Observe(10 * s);
        }
        long weights = parameters.Sum(p => p.NumberOfElements * p.ElementSize);

        Assert.That(methods.Select(m => m.MemoryBytes), Is.EqualTo(new[] { timesWeights * weights, 0L, 0L }));
        Assert.That(methods.Select(m => m.Touches.Sum(p => p.NumberOfElements * p.ElementSize)), Is.All.EqualTo(weights), "each attempt backs up what its methods may write");
        Assert.That(tracker.Base.Bytes, Is.EqualTo(weights), "W0's copy in the weights' dtype");
    }
}
