using AlphaRl.Extrapolation;
using AlphaRl.Linalg;
using AlphaRl.Tests.Support;
using AlphaRl.Tracking;
using static TorchSharp.torch;

namespace AlphaRl.Tests.Tracking;

/// <summary>
/// The tracker's default snapshots (a fixed pass budget from the previous V, W_t and W0 read directly) against
/// exact-SVD snapshots, judged by what they feed: the rank-1 line jump's predicted weights.
/// </summary>
public class StreamingSnapshotAccuracyTests
{
    [TestCase(0.3, 0.05)]
    [TestCase(0.8, 0.3)]
    [TestCase(0.95, 0.3)]
    public void DefaultSnapshots_MoveTheRank1Jump_ByLessThanOnePercentOfItsCorrection(double gap, double turn)
    {
        const int rows = 96, cols = 64;
        var random = new Random(5);
        float[] x1 = Synthetic.UnitVector(rows, random), b1 = Synthetic.UnitVector(rows, random), x2 = Synthetic.UnitVector(rows, random);
        float[] v1 = Synthetic.UnitVector(cols, random), w1 = Synthetic.UnitVector(cols, random), v2 = Synthetic.UnitVector(cols, random);
        var w0 = Enumerable.Range(0, rows * cols).Select(_ => 0.02f * Synthetic.Gaussian(random)).ToArray();
        var noise = Enumerable.Range(0, rows * cols).Select(_ => Synthetic.Gaussian(random)).ToArray();
        var cheap = new SubspaceTracker(PowerIterationOptions.Default);
        var exact = new SubspaceTracker();
        foreach (long step in Trajectories.Steps(5))
        {
            // dW = a(t) x1(t) v1(t)ᵀ + gap·a(t) x2 v2ᵀ + noise: x1 along a curved line, v1 turning, s2/s1 ≈ gap.
            double t = step / 25.0, angle = turn * t, a = 0.5 * t + 0.2 * t * t;
            var wt = new float[rows * cols];
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++)
                {
                    float v = (float)(Math.Cos(angle) * v1[j] + Math.Sin(angle) * w1[j]);
                    wt[i * cols + j] = w0[i * cols + j] + (float)(a * (x1[i] + 0.3 * t * b1[i])) * v + (float)(gap * a * x2[i]) * v2[j]
                        + (float)(1e-3 * Math.Sqrt(t)) * noise[i * cols + j];
                }
            cheap.ObserveDifference("m", step, wt, w0, rows, cols);
            exact.Record("m", step, ExactTriplet(wt, w0, rows, cols));
        }

        var line = new StepLineExtrapolator();
        var (c1, u1) = Correction(line, cheap.Snapshots("m"), 75);
        var (c2, u2) = Correction(line, exact.Snapshots("m"), 75);
        double difference = 0, correction = 0;
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
            {
                double d2 = (double)c2[i] * u2[j];
                difference += Math.Pow(c1[i] * u1[j] - d2, 2);
                correction += d2 * d2;
            }

        Assert.That(cheap.Snapshots("m").Skip(1).All(s => s.U.Length == rows), Is.True);
        Assert.That(Math.Sqrt(difference / correction), Is.LessThan(0.01));
    }

    private static (float[] C, float[] V) Correction(StepLineExtrapolator line, IReadOnlyList<Rank1Snapshot> snapshots, long target)
    {
        var fit = line.Fit("m", snapshots);
        return (Rank1Jump.Coefficients(fit, line.Predict(fit, target), JumpForm.Increment), fit.LastV);
    }

    private static SingularTriplet ExactTriplet(float[] wt, float[] w0, int rows, int cols)
    {
        using var scope = NewDisposeScope();
        var update = tensor(wt.Zip(w0, (a, b) => (double)a - b).ToArray()).reshape(rows, cols);
        var (u, s, vh) = linalg.svd(update, fullMatrices: false);
        return new SingularTriplet((float)s[0].item<double>(), Synthetic.ToArray(u[.., 0]), Synthetic.ToArray(vh[0]), 0, true);
    }
}
