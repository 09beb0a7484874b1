using AlphaRl.Tests.Support;
using AlphaRl.TorchSharp;
using AlphaRl.TorchSharp.Jumps;
using TorchSharp;
using static TorchSharp.torch;

namespace AlphaRl.Tests.Hooks;

/// <summary>
/// <see cref="VelocityJumpOptions.StateOnCpu"/>: the running sums live in host memory and each snapshot is folded into
/// them on a worker thread. The jumps must be those of the sums kept beside the parameters, bit for bit, across windows,
/// a saved and resumed session, and in either dtype.
/// </summary>
public class VelocityHostStateTests
{
    private const int Steps = 130;

    /// <summary>Trains <see cref="Steps"/> steps along a bending path (t·B1 + √t·B2, every tensor) with repeated jumps;
    /// with <paramref name="saveAt"/>, saves the session after that step and resumes it into a new one.</summary>
    private static (List<byte[][]> Weights, List<(long, long, bool, double)> Jumps, long Bytes) Train(ScalarType dtype, bool onCpu, int? saveAt = null, Device? device = null)
    {
        torch.random.manual_seed(5);
        using var policy = new TinyPolicy(d: 16, dtype: dtype);
        if (device is not null) policy.to(device);
        var random = new Random(7);
        var start = policy.named_parameters().ToDictionary(p => p.name, p => Floats(p.parameter));
        var b1 = start.ToDictionary(s => s.Key, s => s.Value.Select(_ => Synthetic.Gaussian(random) * 0.01f).ToArray());
        var b2 = start.ToDictionary(s => s.Key, s => s.Value.Select(_ => Synthetic.Gaussian(random) * 0.02f).ToArray());
        AlphaRLOptions Options() => new()
        {
            Snapshots = { Interval = 10, Max = 4 },
            Attempts = { MinSnapshots = 4, Schedule = JumpSchedule.Repeated, MaxJumps = 3 },
            Jumps = { Lengths = [0, 0.5, 1, 2], Methods = { new VelocityJumpOptions { IncludeUncovered = true, StateOnCpu = onCpu, SkipSnapshots = 1 } } },
        };
        var alpha = AlphaRL.Accelerate(policy, Options());
        string? folder = null;
        try
        {
            var jumps = new List<(long, long, bool, double)>();
            var weights = new List<byte[][]>();
            for (int step = 1; step <= Steps; step++)
            {
                double t = step + alpha.StepsSkipped;
                using (var scope = NewDisposeScope())
                    foreach (var (name, p) in policy.named_parameters())
                        Weights.Set(p, tensor(start[name].Select((w, i) => (float)(w + b1[name][i] * t + b2[name][i] * Math.Sqrt(t))).ToArray(), p.shape).to(dtype));
                // The score rises along the path and falls past t + 25: the guard's choice depends on the jumped weights.
                var outcome = alpha.Step(step, () => -Math.Abs(Distance(policy, start, b1, t + 25)));
                if (outcome.Jump is { } jump)
                {
                    jumps.Add((jump.FromStep, jump.TargetStep, jump.Kept, jump.Length));
                    // The path overwrites every weight at the next step: the jumped weights are compared here.
                    weights.Add(policy.named_parameters().Select(p => Synthetic.Bytes(p.parameter)).ToArray());
                }
                if (step == saveAt)
                {
                    folder = Path.Combine(Path.GetTempPath(), "alpharl-host-state-" + Guid.NewGuid().ToString("N"));
                    alpha.Save(folder);
                    alpha.Dispose();
                    alpha = AlphaRL.Resume(policy, folder, Options());
                }
            }
            return (weights, jumps, alpha.MemoryBytes);
        }
        finally
        {
            alpha.Dispose();
            if (folder is not null) Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Σ over the tensors of ‖W − (W0 + t B1)‖² (how far the live weights are from the line's point at t).</summary>
    private static double Distance(nn.Module policy, Dictionary<string, float[]> start, Dictionary<string, float[]> b1, double t)
    {
        double sum = 0;
        foreach (var (name, p) in policy.named_parameters())
        {
            var w = Floats(p);
            for (int i = 0; i < w.Length; i++) sum += Math.Pow(w[i] - (start[name][i] + b1[name][i] * t), 2);
        }
        return sum;
    }

    [Test]
    public void SumsInHostMemory_GiveTheJumpsOfTheSumsOnTheDevice_BitForBit(
        [Values(ScalarType.Float32, ScalarType.BFloat16)] ScalarType dtype,
        [Values(false, true)] bool torchOps)
    {
        // Beside CPU parameters the sums are folded by Core's span pass; torchOps folds them as on any other device.
        (List<byte[][]> Weights, List<(long, long, bool, double)> Jumps, long Bytes) device;
        VelocityJump.TorchOpsOnCpu = torchOps;
        try
        {
            device = Train(dtype, onCpu: false);
        }
        finally
        {
            VelocityJump.TorchOpsOnCpu = false;
        }
        var host = Train(dtype, onCpu: true);

        Assert.That(device.Jumps, Has.Count.EqualTo(3), "three windows, each with an attempt");
        Assert.That(device.Jumps.Count(j => j.Item3), Is.GreaterThan(0), "jumps were kept");
        Assert.That(host.Jumps, Is.EqualTo(device.Jumps));
        Assert.That(device.Jumps.Select(j => j.Item4), Has.Some.GreaterThan(0), "a kept candidate beyond W_e");
        Assert.That(host.Weights, Is.EqualTo(device.Weights), "every tensor's bytes after each of the three attempts");
        Assert.That(host.Bytes, Is.EqualTo(device.Bytes), "the same sums, held elsewhere");
    }

    [Test, Category("Device")]
    public void OnCuda_SumsInHostMemory_GiveTheJumpsOfTheSumsOnTheDevice_ToFloat32Rounding()
    {
        if (!cuda.is_available())
            Assert.Ignore("CUDA is not available on this machine (torch.cuda.is_available() is false); run benchmarks/gpu-checks.sh on a GPU machine.");
        // On the GPU the sums beside the parameters are folded by CUDA kernels, which may round (W − mean)/n otherwise
        // than a division (a product with 1/n): the host's sums agree to float32 rounding, not necessarily bit for bit.
        var device = Train(ScalarType.Float32, onCpu: false, device: CUDA);
        var host = Train(ScalarType.Float32, onCpu: true, device: CUDA);

        Assert.That(host.Jumps, Is.EqualTo(device.Jumps));
        Assert.That(device.Jumps.Count(j => j.Item3), Is.GreaterThan(0), "jumps were kept");
        double worst = 0;
        for (int a = 0; a < device.Weights.Count; a++)
            for (int t = 0; t < device.Weights[a].Length; t++)
            {
                var d = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(device.Weights[a][t]);
                var h = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(host.Weights[a][t]);
                for (int i = 0; i < d.Length; i++) worst = Math.Max(worst, Math.Abs(d[i] - h[i]));
            }
        Assert.That(worst, Is.LessThan(1e-6), "largest difference of a weight after an attempt (weights of order 0.1 to 1)");
    }

    [Test]
    public void SavedRightAfterASnapshot_TheFoldOnTheWorkerIsInTheSavedState()
    {
        // Step 70 is a snapshot of the second window: the save follows its fold at once.
        var uninterrupted = Train(ScalarType.Float32, onCpu: true);
        var resumed = Train(ScalarType.Float32, onCpu: true, saveAt: 70);

        Assert.That(resumed.Jumps, Is.EqualTo(uninterrupted.Jumps));
        Assert.That(resumed.Weights, Is.EqualTo(uninterrupted.Weights));
    }

    [Test]
    public void MemoryAccounting_CountsTheHostSumsAsHostMemory()
    {
        using var policy = new TinyPolicy(d: 16);
        var methods = new[] { false, true }.Select(onCpu => new AlphaRLOptions
        {
            Snapshots = { Interval = 1, Max = 4 },
            Attempts = { MinSnapshots = 4, MaxJumps = 0 },
            Jumps = { Methods = { new VelocityJumpOptions { StateOnCpu = onCpu } } },
        }).ToList();
        using var device = AlphaRL.Accelerate(policy, methods[0]);
        using var host = AlphaRL.Accelerate(policy, methods[1]);
        for (int step = 1; step <= 3; step++)
        {
            using (no_grad())
                foreach (var p in policy.parameters()) p.add_(1e-3f);
            device.Step(step);
            host.Step(step);
        }
        long covered = device.Covered.Sum(name => policy.named_parameters().Single(p => p.name == name).parameter.NumberOfElements * 4L);

        Assert.That(host.MemoryBytes, Is.EqualTo(device.MemoryBytes));
        Assert.That(host.HostMemoryBytes - device.HostMemoryBytes, Is.EqualTo(2 * covered), "mean and co-moment in float32, for the covered matrices");
    }

    private static float[] Floats(Tensor t)
    {
        using var scope = NewDisposeScope();
        return t.detach().to(ScalarType.Float32).cpu().data<float>().ToArray();
    }
}
