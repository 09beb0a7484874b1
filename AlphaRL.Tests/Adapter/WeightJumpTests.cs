using AlphaRl.Extrapolation;
using AlphaRl.Tests.Support;
using AlphaRl.TorchSharp.Jumps;
using AlphaRl.TorchSharp.Tracking;
using static TorchSharp.torch;

namespace AlphaRl.Tests.Adapter;

public class WeightJumpTests
{
    private static List<MatrixJump> RandomJumps(IEnumerable<CoveredMatrix> covered, int seed)
    {
        var random = new Random(seed);
        return covered.Select(m => new MatrixJump(m,
            Synthetic.UnitVector(m.Rows, random).Select(x => x * 0.3f).ToArray(), Synthetic.UnitVector(m.Cols, random))).ToList();
    }

    [TestCase(ScalarType.Float32)]
    [TestCase(ScalarType.BFloat16)]
    public void JumpThenRestore_LeavesEveryParameterBitIdentical(ScalarType dtype)
    {
        using var policy = new TinyPolicy(d: 16, dtype: dtype);
        var covered = Weights.Covered(policy);
        using var baseWeights = new BaseWeights(covered, onCpu: false);
        var before = Weights.Snapshot(policy);

        using var jump = WeightJump.Apply(RandomJumps(covered, 1), baseWeights, JumpForm.Increment);
        Assert.That(Synthetic.Bytes(covered[0].Parameter), Is.Not.EqualTo(before[covered[0].Name]), "the jump must change the weights");
        Assert.That(covered[0].Parameter.dtype, Is.EqualTo(dtype), "weights are written back in their own dtype");
        jump.Restore();

        Weights.AssertIdentical(policy, before);
    }

    [Test]
    public void Jump_AddsTheRank1CorrectionInFloat32()
    {
        using var policy = new TinyPolicy(d: 8);
        var covered = Weights.Covered(policy).Take(1).ToList();
        using var baseWeights = new BaseWeights(covered, onCpu: true);
        var w = Synthetic.ToArray(covered[0].Parameter);
        var jumps = RandomJumps(covered, 2);

        using var jump = WeightJump.Apply(jumps, baseWeights, JumpForm.Increment, backupOnCpu: true);

        var after = Synthetic.ToArray(covered[0].Parameter);
        var (c, v) = (jumps[0].Coefficients, jumps[0].V);
        for (int i = 0; i < covered[0].Rows; i++)
            for (int j = 0; j < covered[0].Cols; j++)
                Assert.That(after[i * covered[0].Cols + j], Is.EqualTo(w[i * covered[0].Cols + j] + c[i] * v[j]).Within(1e-6));
    }

    [Test]
    public void AddToBaseForm_StartsFromW0()
    {
        using var policy = new TinyPolicy(d: 8);
        var covered = Weights.Covered(policy).Take(1).ToList();
        using var baseWeights = new BaseWeights(covered, onCpu: false);
        var w0 = Synthetic.ToArray(covered[0].Parameter);
        using (no_grad()) covered[0].Parameter.add_(1f);
        var zero = new MatrixJump(covered[0], new float[covered[0].Rows], Synthetic.UnitVector(covered[0].Cols, new Random(1)));

        using var jump = WeightJump.Apply([zero], baseWeights, JumpForm.AddToBase);

        Assert.That(Synthetic.ToArray(covered[0].Parameter), Is.EqualTo(w0).Within(1e-6));
    }

    [Test]
    public void NonFinitePrediction_IsRejected_AndNothingIsWritten()
    {
        using var policy = new TinyPolicy(d: 8);
        var covered = Weights.Covered(policy);
        using var baseWeights = new BaseWeights(covered, onCpu: false);
        var before = Weights.Snapshot(policy);
        var jumps = RandomJumps(covered, 3);
        jumps[^1].Coefficients[2] = float.NaN;

        Assert.That(() => WeightJump.Apply(jumps, baseWeights, JumpForm.Increment), Throws.TypeOf<AlphaRLException>()
            .With.Message.Contains(covered[^1].Name).And.Message.Contains("nothing was written"));
        Weights.AssertIdentical(policy, before);
    }

    [Test]
    public void OverflowingJump_RestoresAllWeights()
    {
        using var policy = new TinyPolicy(d: 8);
        var covered = Weights.Covered(policy);
        Weights.Set(covered[^1].Parameter, full(covered[^1].Parameter.shape, 1e38f));
        using var baseWeights = new BaseWeights(covered, onCpu: false);
        var before = Weights.Snapshot(policy);
        var jumps = RandomJumps(covered, 4);
        var last = jumps[^1];
        jumps[^1] = last with { Coefficients = Enumerable.Repeat(float.MaxValue, last.Coefficients.Length).ToArray(), V = Enumerable.Repeat(1f, last.V.Length).ToArray() };

        Assert.That(() => WeightJump.Apply(jumps, baseWeights, JumpForm.Increment), Throws.TypeOf<AlphaRLException>().With.Message.Contains("overflows"));
        Weights.AssertIdentical(policy, before);
    }

    [Test]
    public void MismatchedCorrectionShape_IsRejected()
    {
        using var policy = new TinyPolicy(d: 8);
        var covered = Weights.Covered(policy);
        using var baseWeights = new BaseWeights(covered, onCpu: false);
        var bad = new MatrixJump(covered[0], new float[3], new float[covered[0].Cols]);
        Assert.That(() => WeightJump.Apply([bad], baseWeights, JumpForm.Increment), Throws.TypeOf<AlphaRLException>()
            .With.Message.Contains(covered[0].Name).And.Message.Contains("3×"));
    }
}
