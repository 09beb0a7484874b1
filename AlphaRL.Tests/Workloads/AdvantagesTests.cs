using AlphaRl.Workloads.Training;

namespace AlphaRl.Tests.Workloads;

/// <summary>GRPO's group normalisation, GAE and whitening against numbers worked out by hand.</summary>
public class AdvantagesTests
{
    [Test]
    public void GroupNormalised_OneRightOfFour()
    {
        // mean 0.25; population variance (0.75² + 3·0.25²)/4 = 0.1875; sd = 0.4330127018922193
        double[] a = Advantages.GroupNormalised([1, 0, 0, 0], 4, epsilon: 0);

        Assert.That(a[0], Is.EqualTo(0.75 / 0.4330127018922193).Within(1e-12));
        Assert.That(a[0], Is.EqualTo(1.7320508075688772).Within(1e-12)); // sqrt(3)
        for (int i = 1; i < 4; i++) Assert.That(a[i], Is.EqualTo(-0.5773502691896258).Within(1e-12)); // -1/sqrt(3)
    }

    [Test]
    public void GroupNormalised_DefaultEpsilonIsAddedToTheSd()
    {
        double[] a = Advantages.GroupNormalised([1, 0, 0, 0], 4);
        Assert.That(a[0], Is.EqualTo(0.75 / (Math.Sqrt(0.1875) + 1e-6)).Within(1e-12));
    }

    [Test]
    public void GroupNormalised_GroupsAreIndependent()
    {
        // group 1: [1, 0] -> mean .5, sd .5 -> [1, -1]; group 2 all equal -> zeros; group 3: [0, 0.5] -> [-1, 1]
        double[] a = Advantages.GroupNormalised([1, 0, 1, 1, 0, 0.5], 2, epsilon: 0);
        Assert.That(a, Is.EqualTo(new[] { 1.0, -1.0, 0.0, 0.0, -1.0, 1.0 }).Within(1e-12));
    }

    [Test]
    public void GroupNormalised_AllEqualGroups_GiveZeros()
    {
        Assert.That(Advantages.GroupNormalised([1, 1, 1, 1, 0, 0, 0, 0], 4), Is.All.EqualTo(0.0));
        Assert.That(Advantages.GroupNormalised([0.3, 0.3, 0.3], 3), Is.All.EqualTo(0.0));
    }

    [Test]
    public void GroupNormalised_AllEqualGroup_GivesZerosEvenWhenTheMeanIsNotExact()
    {
        // 0.1 + 0.1 + 0.1 = 0.30000000000000004, so the computed mean is not exactly 0.1 and the deviations are
        // ~1e-17: dividing them by an sd of the same size must not turn them into ±1 advantages.
        Assert.That(Advantages.GroupNormalised([0.1, 0.1, 0.1], 3), Is.All.EqualTo(0.0));
        Assert.That(Advantages.GroupNormalised([0.1, 0.1, 0.1], 3, epsilon: 0), Is.All.EqualTo(0.0));
        Assert.That(Advantages.GroupNormalised([1, 1, 0, 0], 2, epsilon: 0), Is.All.EqualTo(0.0));
    }

    [Test]
    public void GroupNormalised_LengthNotAMultipleOfTheGroup_Throws()
    {
        Assert.Throws<ArgumentException>(() => Advantages.GroupNormalised([1, 0, 0, 0, 1], 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => Advantages.GroupNormalised([1, 0], 0));
    }

    [Test]
    public void Gae_HandComputed()
    {
        // gamma 1, lambda 0.95, V_3 = 0:
        // delta_2 = 1 + 0 - 0.7 = 0.3; delta_1 = 0 + 0.7 - 0.6 = 0.1; delta_0 = 0 + 0.6 - 0.5 = 0.1
        // A_2 = 0.3; A_1 = 0.1 + 0.95 * 0.3 = 0.385; A_0 = 0.1 + 0.95 * 0.385 = 0.46575
        var (a, r) = Advantages.Gae([0, 0, 1], [0.5, 0.6, 0.7], gamma: 1, lambda: 0.95);

        Assert.That(a, Is.EqualTo(new[] { 0.46575, 0.385, 0.3 }).Within(1e-12));
        Assert.That(r, Is.EqualTo(new[] { 0.96575, 0.985, 1.0 }).Within(1e-12));
    }

    [Test]
    public void Gae_WithDiscount_HandComputed()
    {
        // gamma 0.9, lambda 0.5: delta_1 = 2 - 0.4 = 1.6; delta_0 = 1 + 0.9·0.4 − 0.2 = 1.16
        // A_1 = 1.6; A_0 = 1.16 + 0.45·1.6 = 1.88
        var (a, r) = Advantages.Gae([1, 2], [0.2, 0.4], gamma: 0.9, lambda: 0.5);
        Assert.That(a, Is.EqualTo(new[] { 1.88, 1.6 }).Within(1e-12));
        Assert.That(r, Is.EqualTo(new[] { 2.08, 2.0 }).Within(1e-12));
    }

    [Test]
    public void Gae_LambdaOne_IsTheMonteCarloReturnMinusTheValue()
    {
        double[] rewards = [0.5, -1, 0, 2, 0.25];
        double[] values = [0.3, 0.1, -0.4, 0.9, 0.05];
        var (a, r) = Advantages.Gae(rewards, values, gamma: 1, lambda: 1);

        for (int t = 0; t < rewards.Length; t++)
        {
            double future = rewards.Skip(t).Sum();
            Assert.That(a[t], Is.EqualTo(future - values[t]).Within(1e-12), $"A_{t}");
            Assert.That(r[t], Is.EqualTo(future).Within(1e-12), $"return_{t}");
        }
    }

    [Test]
    public void Gae_LambdaZero_IsTheOneStepTdError()
    {
        var (a, _) = Advantages.Gae([0, 0, 1], [0.5, 0.6, 0.7], gamma: 1, lambda: 0);
        Assert.That(a, Is.EqualTo(new[] { 0.1, 0.1, 0.3 }).Within(1e-12));
    }

    [Test]
    public void Gae_BadArguments_Throw()
    {
        Assert.Throws<ArgumentException>(() => Advantages.Gae([0, 1], [0.5], 1, 0.95));
        Assert.Throws<ArgumentOutOfRangeException>(() => Advantages.Gae([0, 1], [0.5, 0.5], 1.5, 0.95));
        Assert.Throws<ArgumentOutOfRangeException>(() => Advantages.Gae([0, 1], [0.5, 0.5], 1, -0.1));
    }

    [Test]
    public void Whiten_GivesMeanZeroAndSdOne()
    {
        double[] w = Advantages.Whiten([3, 1, 4, 1, 5, 9, 2, 6]);
        double mean = w.Average();
        double sd = Math.Sqrt(w.Select(x => (x - mean) * (x - mean)).Average());

        Assert.That(mean, Is.EqualTo(0).Within(1e-12));
        Assert.That(sd, Is.EqualTo(1).Within(1e-6));
        // order is kept: 9 is the largest
        Assert.That(Array.IndexOf(w, w.Max()), Is.EqualTo(5));
    }

    [Test]
    public void Whiten_HandComputed_AndEdgeCases()
    {
        // [1, 3]: mean 2, population sd 1
        Assert.That(Advantages.Whiten([1, 3], epsilon: 0), Is.EqualTo(new[] { -1.0, 1.0 }).Within(1e-12));
        Assert.That(Advantages.Whiten([2, 2, 2]), Is.All.EqualTo(0.0));
        Assert.That(Advantages.Whiten([]), Is.Empty);
    }
}
