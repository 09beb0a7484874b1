using AlphaRl.Linalg;
using AlphaRl.Tests.Support;
using AlphaRl.TorchSharp.Linalg;
using AlphaRl.Tracking;
using AlphaRl.TorchSharp.Tracking;
using static TorchSharp.torch;

namespace AlphaRl.Tests.Linalg;

/// <summary>The batched device path: matrices of one shape iterated together give what each gives alone.</summary>
public class BatchedDevicePathTests
{
    private static (Tensor Current, Tensor Initial) Pair(int rows, int cols, int seed, ScalarType dtype)
    {
        var random = new Random(seed);
        var initial = new float[rows * cols];
        for (int i = 0; i < initial.Length; i++) initial[i] = Synthetic.Gaussian(random);
        var update = Synthetic.LowRankPlusNoise(rows, cols, seed);
        var current = initial.Zip(update, (a, b) => a + b).ToArray();
        return (tensor(current).reshape(rows, cols).to(dtype), tensor(initial).reshape(rows, cols).to(dtype));
    }

    [TestCase(ScalarType.Float32, false)]
    [TestCase(ScalarType.Float32, true)]
    [TestCase(ScalarType.BFloat16, false)]
    [TestCase(ScalarType.BFloat16, true)]
    public void Batched_MatchesThePerMatrixDevicePathAndTheSpanKernel(ScalarType dtype, bool warm)
    {
        using var scope = NewDisposeScope();
        const int count = 3, rows = 48, cols = 33;
        var pairs = Enumerable.Range(0, count).Select(i => Pair(rows, cols, seed: 10 + i, dtype)).ToArray();
        // Warm starts: the top V of a nearby update (a different noise draw), as the previous snapshot would give.
        var starts = Enumerable.Range(0, count).Select(i => warm
            ? TopSingular.Compute(Synthetic.LowRankPlusNoise(rows, cols, seed: 10 + i, noise: 0.03f), rows, cols).V
            : null).ToArray();

        var batched = TorchTopSingular.ComputeOfDifferenceBatchedWithTorchOps(
            pairs.Select(p => p.Current).ToArray(), pairs.Select(p => p.Initial).ToArray(), starts, PowerIterationOptions.Default);

        for (int i = 0; i < count; i++)
        {
            Tensor wt = pairs[i].Current.to(ScalarType.Float32), w0 = pairs[i].Initial.to(ScalarType.Float32);
            var alone = TorchTopSingular.ComputeOfDifferenceWithTorchOps(wt, w0, starts[i], PowerIterationOptions.Default);
            var span = TorchTopSingular.ComputeOfDifference(pairs[i].Current, pairs[i].Initial, options: PowerIterationOptions.Converged);
            var triplet = batched[i]!;
            Assert.That(triplet, Is.Not.Null);
            Assert.That(triplet.Iterations, warm ? Is.EqualTo(PowerIterationOptions.Default.WarmPasses) : Is.GreaterThan(PowerIterationOptions.Default.WarmPasses));
            // Same iteration, same start: the same triplet as the member alone.
            Assert.That(triplet.Value, Is.EqualTo(alone.Value).Within(1e-4).Percent);
            Assert.That(Math.Abs(Synthetic.Cosine(triplet.V, alone.V)), Is.GreaterThanOrEqualTo(0.99999));
            Assert.That(Math.Abs(Synthetic.Cosine(triplet.U, alone.U)), Is.GreaterThanOrEqualTo(0.99999));
            Assert.That(triplet.MatrixNorm, Is.EqualTo(alone.MatrixNorm).Within(1e-4).Percent);
            // Against the converged span kernel: exact when cold, close when warm (3 passes from a nearby start).
            Assert.That(triplet.Value, Is.EqualTo(span.Value).Within(warm ? 1 : 1e-3).Percent);
            Assert.That(Math.Abs(Synthetic.Cosine(triplet.V, span.V)), Is.GreaterThanOrEqualTo(warm ? 0.999 : 0.9999));
            Assert.That(triplet.MatrixNorm, Is.EqualTo(span.MatrixNorm).Within(1e-3).Percent);
        }
    }

    [Test]
    public void Batched_FlagsANonFiniteMember_AndKeepsTheOthers()
    {
        using var scope = NewDisposeScope();
        var a = Pair(20, 12, seed: 1, ScalarType.Float32);
        var b = Pair(20, 12, seed: 2, ScalarType.Float32);
        var broken = b.Initial.clone();
        broken[3, 4] = tensor(float.NaN);

        var batched = TorchTopSingular.ComputeOfDifferenceBatchedWithTorchOps([a.Current, b.Current], [a.Initial, broken], [null, null], PowerIterationOptions.Default);

        Assert.That(batched[0], Is.Not.Null);
        Assert.That(batched[1], Is.Null);
    }

    [Test]
    public void Tracker_OnTheDevicePath_RecordsWhatTheSpanKernelRecords_MixedShapes()
    {
        using var policy = new TinyPolicy(d: 16, layerCount: 3);
        var covered = Weights.Covered(policy);
        Assert.That(covered.GroupBy(m => (m.Rows, m.Cols)).Count(), Is.GreaterThan(1), "the policy must hold several shapes");
        Assert.That(covered.GroupBy(m => (m.Rows, m.Cols)).Any(g => g.Count() > 1), "and several matrices of one shape");
        using var span = new TorchSubspaceTracker(covered, powerIteration: PowerIterationOptions.Converged);
        using var device = new TorchSubspaceTracker(covered, powerIteration: PowerIterationOptions.Converged) { DevicePathOnCpu = true };
        for (int step = 1; step <= 2; step++)
        {
            foreach (var m in covered)
            {
                var delta = Synthetic.LowRankPlusNoise(m.Rows, m.Cols, seed: step * 100 + m.Rows + m.Cols + m.Name.Length);
                Weights.Set(m.Parameter, m.Parameter.detach() + tensor(delta).reshape(m.Rows, m.Cols));
            }
            span.Observe(step);
            device.Observe(step);
        }
        foreach (var m in covered)
            for (int k = 0; k < 2; k++)
            {
                Rank1Snapshot s = span.Snapshots(m.Name)[k], d = device.Snapshots(m.Name)[k];
                Assert.That(d.Sigma, Is.EqualTo(s.Sigma).Within(1e-3).Percent, m.Name);
                Assert.That(Synthetic.Cosine(d.V, s.V), Is.GreaterThanOrEqualTo(0.9999), $"{m.Name}: sign-aligned V");
                Assert.That(d.UpdateNorm, Is.EqualTo(s.UpdateNorm).Within(1e-3).Percent, m.Name);
            }
    }
}
