using AlphaRl.Extrapolation;
using AlphaRl.Tests.Support;
using AlphaRl.TorchSharp;
using AlphaRl.TorchSharp.Jumps;
using TorchSharp;
using static TorchSharp.torch;

namespace AlphaRl.Tests.Hooks;

/// <summary>
/// The hook's velocity (on tensors) and Core's <see cref="WeightVelocity"/> (on spans, as <c>predict</c> and <c>record</c>
/// use it) are one computation: on the same snapshots they give the same jumped weights.
/// </summary>
public class VelocityAgreementTests
{
    [Test]
    public void HookAndCoreVelocity_GiveTheSameJump_OnTheSameSnapshots(
        [Values(ScalarType.Float32, ScalarType.BFloat16)] ScalarType dtype,
        [Values(false, true)] bool torchOps)
    {
        // On the CPU the hook folds with Core's span pass; the torch operations are those of every other device.
        VelocityJump.TorchOpsOnCpu = torchOps;
        try
        {
            HookAndCoreVelocity(dtype);
        }
        finally
        {
            VelocityJump.TorchOpsOnCpu = false;
        }
    }

    private static void HookAndCoreVelocity(ScalarType dtype)
    {
        using var policy = new TinyPolicy(d: 16, dtype: dtype);
        var random = new Random(5);
        var names = policy.named_parameters().Select(p => p.name).ToList();
        var start = policy.named_parameters().ToDictionary(p => p.name, p => Floats(p.parameter));
        var direction = names.ToDictionary(n => n, n => start[n].Select(_ => Synthetic.Gaussian(random) * 0.01f).ToArray());
        var bend = names.ToDictionary(n => n, n => start[n].Select(_ => Synthetic.Gaussian(random) * 0.003f).ToArray());
        var options = new AlphaRLOptions
        {
            Snapshots = { Interval = 10, Max = 5 },
            Attempts = { MinSnapshots = 5, Schedule = JumpSchedule.Repeated, MaxJumps = 1 },
            Jumps = { Lengths = [0, 1.5], Methods = { new VelocityJumpOptions { IncludeUncovered = true } } },
        };
        using var alpha = AlphaRL.Accelerate(policy, options);
        var snapshots = new List<(long Step, Dictionary<string, float[]> Weights)>();
        StepOutcome? outcome = null;
        for (int step = 1; step <= 50; step++)
        {
            // A path that bends (√t), so that the slope is a least-squares fit and not an exact line.
            using (var scope = NewDisposeScope())
                foreach (var (name, p) in policy.named_parameters())
                    Weights.Set(p, tensor(start[name].Select((w, i) => (float)(w + direction[name][i] * step + bend[name][i] * Math.Sqrt(step) * 10)).ToArray(), p.shape).to(dtype));
            if (step % 10 == 0) snapshots.Add((step, policy.named_parameters().ToDictionary(p => p.name, p => Floats(p.parameter))));
            outcome = alpha.Step(step);
        }
        Assert.That((outcome!.Action, outcome.Jump!.TargetStep), Is.EqualTo((StepAction.JumpKept, 125L)), "unguarded: 1.5 windows of 50 steps from step 0, from step 50");

        var velocity = new WeightVelocity();
        int compared = 0;
        foreach (var (name, p) in policy.named_parameters())
        {
            var last = snapshots[^1].Weights[name];
            velocity.Reset(name, last.Length, origin: 0);
            foreach (var (step, weights) in snapshots) velocity.Add(step, weights[name], $"step {step}");
            var expected = new float[last.Length];
            velocity.Jump(last, 125 - 50, expected);
            var hook = Floats(p);
            // The hook rounds the float32 result to the parameter's dtype; Core's float32 result is rounded the same way.
            using (var scope = NewDisposeScope()) expected = Floats(tensor(expected).to(dtype));
            for (int i = 0; i < expected.Length; i++)
            {
                Assert.That(hook[i], Is.EqualTo(expected[i]), $"{name}[{i}]: the hook and Core's velocity must be the same float32 computation");
                compared++;
            }
        }
        Assert.That(compared, Is.GreaterThan(1000));
    }

    private static float[] Floats(Tensor t)
    {
        using var scope = NewDisposeScope();
        return t.detach().to(ScalarType.Float32).cpu().data<float>().ToArray();
    }
}
