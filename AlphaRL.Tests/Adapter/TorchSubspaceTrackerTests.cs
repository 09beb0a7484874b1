using AlphaRl.Linalg;
using AlphaRl.Tests.Support;
using AlphaRl.TorchSharp.Tracking;
using TorchSharp;
using static TorchSharp.torch;

namespace AlphaRl.Tests.Adapter;

public class TorchSubspaceTrackerTests
{
    [Test]
    public void Observe_RecordsTheSameTripletAsTheSpanRoutine()
    {
        using var policy = new TinyPolicy(d: 16);
        var covered = Weights.Covered(policy);
        using var tracker = new TorchSubspaceTracker(covered);
        var w0 = Synthetic.ToArray(covered[0].Parameter);
        var delta = Synthetic.LowRankPlusNoise(covered[0].Rows, covered[0].Cols, seed: 4);
        Weights.Set(covered[0].Parameter, tensor(w0.Zip(delta, (a, b) => a + b).ToArray()).reshape(covered[0].Rows, covered[0].Cols));

        tracker.Observe(10);

        var expected = TopSingular.Compute(delta, covered[0].Rows, covered[0].Cols);
        var snapshot = tracker.Snapshots(covered[0].Name)[0];
        Assert.That(snapshot.Sigma, Is.EqualTo(expected.Value).Within(expected.Value * 1e-4));
        Assert.That(Math.Abs(Synthetic.Cosine(snapshot.U, expected.U)), Is.GreaterThan(0.9999));
    }

    [Test]
    public void ShapeChange_IsRejected_NamingTheParameter()
    {
        using var policy = new TinyPolicy(d: 8);
        var covered = Weights.Covered(policy);
        using var tracker = new TorchSubspaceTracker(covered);
        tracker.Observe(1);
        using (no_grad()) covered[1].Parameter.set_(zeros(3, 3));

        Assert.That(() => tracker.Observe(2), Throws.TypeOf<AlphaRLException>()
            .With.Message.Contains(covered[1].Name).And.Message.Contains("changed shape"));
        Assert.That(tracker.Snapshots(covered[0].Name), Has.Count.EqualTo(1), "a rejected snapshot records nothing for any matrix");
    }

    [Test]
    public void ReplacedParameter_IsRejected_WithAHint()
    {
        using var policy = new TinyPolicy(d: 8);
        var covered = Weights.Covered(policy);
        using var tracker = new TorchSubspaceTracker(covered);
        policy.to(ScalarType.Float64);
        Assert.That(() => tracker.Observe(1), Throws.TypeOf<AlphaRLException>()
            .With.Message.Contains(covered[0].Name).And.Message.Contains("converted with .to("));
    }

    [Test]
    public void NonFiniteUpdate_IsRejectedBeforeAnythingIsRecorded()
    {
        using var policy = new TinyPolicy(d: 8);
        var covered = Weights.Covered(policy);
        using var tracker = new TorchSubspaceTracker(covered);
        using (no_grad()) covered[^1].Parameter[0, 0] = float.PositiveInfinity;

        Assert.That(() => tracker.Observe(1), Throws.TypeOf<AlphaRLException>()
            .With.Message.Contains(covered[^1].Name).And.Message.Contains("NaN or infinity"));
        Assert.That(tracker.Steps, Is.Empty);
    }

    [Test]
    public void BaseWeights_CanLiveOnTheCpu_AndAreFreedOnDispose()
    {
        using var policy = new TinyPolicy(d: 8);
        var tracker = new TorchSubspaceTracker(Weights.Covered(policy), baseOnCpu: true);
        Assert.That(tracker.Base.OnCpu, Is.True);
        Assert.That(tracker.Base.Bytes, Is.EqualTo(Weights.Covered(policy).Sum(m => m.Rows * m.Cols * 4L)));
        tracker.Dispose();
        Assert.That(tracker.Base.Bytes, Is.Zero);
    }

    [Test]
    public void TwoThousandSnapshots_DoNotGrowNativeMemory()
    {
        using var policy = new TinyPolicy(d: 32, layerCount: 2);
        var covered = Weights.Covered(policy);
        using var tracker = new TorchSubspaceTracker(covered);
        using var outer = NewDisposeScope();
        var random = new Random(1);

        void Run(int from, int count)
        {
            for (int step = from; step < from + count; step++)
            {
                using (var scope = NewDisposeScope())
                using (no_grad())
                {
                    var m = covered[step % covered.Count].Parameter;
                    m.add_(randn(m.shape, generator: null) * 1e-3f);
                }
                tracker.Observe(step);
                tracker.KeepNewest(4);
            }
        }

        long Resident()
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return Weights.ResidentBytes();
        }

        // One-time growth (allocator arenas, thread-pool threads the span kernel may add on a busy machine) happens
        // early and once; a leak grows with every snapshot. So compare two equal halves after a warm-up: a leak of
        // 16 KiB per snapshot (one d×4d float update here) would add 16 MiB to the second half alone.
        Run(1, 200);
        long start = Resident();
        int scopedBefore = outer.DisposablesCount;
        Run(201, 1000);
        long middle = Resident();
        Run(1201, 1000);
        long growth = Resident() - middle;

        Assert.That(outer.DisposablesCount, Is.EqualTo(scopedBefore), "no tensor may leak into the caller's dispose scope");
        Assert.That(growth, Is.LessThan(16L << 20),
            $"RSS grew by {growth >> 20} MiB over the second 1,000 snapshots ({(middle - start) >> 20} MiB over the first)");
    }
}
