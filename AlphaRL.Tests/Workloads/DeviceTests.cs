using AlphaRl.TorchSharp;
using AlphaRl.Workloads;
using AlphaRl.Workloads.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace AlphaRl.Tests.Workloads;

/// <summary>Device and dtype names: what they parse to, and the errors for a device this machine lacks.</summary>
public class ComputeDeviceTests
{
    [TestCase("cpu")]
    [TestCase(" CPU ")]
    public void Cpu_ParsesToTheCpu(string name) =>
        Assert.That(ComputeDevice.Parse(name, "--device", cudaAvailable: false, cudaDevices: 0).type, Is.EqualTo(DeviceType.CPU));

    [TestCase("cuda", 0)]
    [TestCase("cuda:0", 0)]
    [TestCase("cuda:1", 1)]
    public void Cuda_ParsesToTheIndexedDevice_WhenThereAreEnough(string name, int index)
    {
        var device = ComputeDevice.Parse(name, "--device", cudaAvailable: true, cudaDevices: 2);
        Assert.That((device.type, device.index), Is.EqualTo((DeviceType.CUDA, index)));
    }

    [Test]
    public void Cuda_WithoutCuda_IsRefusedNamingTheDevice()
    {
        var e = Assert.Throws<ArgumentException>(() => ComputeDevice.Parse("cuda:1", "--device", cudaAvailable: false, cudaDevices: 0));
        Assert.That(e!.Message, Does.StartWith("--device cuda:1: CUDA is not available on this machine (torch.cuda.is_available() is false)."));
    }

    [Test]
    public void CudaIndex_BeyondTheDevices_IsRefusedNamingHowManyThereAre()
    {
        var e = Assert.Throws<ArgumentException>(() => ComputeDevice.Parse("cuda:3", "--device", cudaAvailable: true, cudaDevices: 1));
        Assert.That(e!.Message, Is.EqualTo("--device cuda:3: only 1 CUDA device on this machine (cuda:0)."));
    }

    [TestCase("gpu")]
    [TestCase("cuda:")]
    [TestCase("cuda:-1")]
    [TestCase("cuda:x")]
    [TestCase("")]
    public void NotADeviceName_IsRefusedNamingIt(string name)
    {
        var e = Assert.Throws<ArgumentException>(() => ComputeDevice.Parse(name, "--device", cudaAvailable: true, cudaDevices: 4));
        Assert.That(e!.Message, Is.EqualTo($"--device \"{name}\" is not a device: use cpu, cuda or cuda:N (N = 0, 1, ...)."));
    }

    [Test]
    public void ThisMachine_DefaultAndCudaFollowTorchCudaIsAvailable()
    {
        bool available = cuda.is_available();
        Assert.That(ComputeDevice.DefaultName, Is.EqualTo(available ? "cuda:0" : "cpu"));
        if (available) Assert.That(ComputeDevice.Parse("cuda").type, Is.EqualTo(DeviceType.CUDA));
        else Assert.That(() => ComputeDevice.Parse("cuda"), Throws.ArgumentException.With.Message.Contains("CUDA is not available"));
    }

    [Test]
    public void RunSettings_NamingAMissingDevice_AreRejectedBeforeAnyTraining()
    {
        int missing = cuda.is_available() ? cuda.device_count() : 0;
        var settings = new RlRunSettings { Device = $"cuda:{missing}" };
        Assert.That(() => settings.Validate(), Throws.ArgumentException.With.Message.StartsWith($"Device cuda:{missing}: "));
        string cache = Path.Combine(Path.GetTempPath(), "alpharl-tests-" + Guid.NewGuid().ToString("N"));
        Assert.That(() => RlRuns.Create(settings, cache), Throws.ArgumentException);
        Assert.That(Directory.Exists(cache), Is.False, "nothing is trained for a device this machine lacks");
    }

    [TestCase("fp32", ScalarType.Float32)]
    [TestCase("bf16", ScalarType.BFloat16)]
    [TestCase("BF16", ScalarType.BFloat16)]
    public void DType_Parses(string name, ScalarType expected) => Assert.That(ComputeDevice.ParseDType(name), Is.EqualTo(expected));

    [Test]
    public void DType_Unknown_IsRefusedNamingIt() =>
        Assert.That(() => ComputeDevice.ParseDType("fp16", "--dtype"), Throws.ArgumentException.With.Message.EqualTo("--dtype \"fp16\" is not a weight dtype: use fp32 or bf16."));
}

/// <summary>
/// RL runs on a device and in bf16. The device cases run on the CPU everywhere and on CUDA where it is available
/// (<c>benchmarks/gpu-checks.sh</c> runs them there; elsewhere the CUDA cases are ignored, saying why). On a CUDA
/// device every op of a run would fail if any tensor of it were left on the CPU, so a finished run there is itself a
/// check of the plumbing.
/// </summary>
[Category("Device")]
public class RunDeviceTests
{
    private string _cache = null!;

    [OneTimeSetUp]
    public void CreateCache() => _cache = Path.Combine(Path.GetTempPath(), "alpharl-tests-" + Guid.NewGuid().ToString("N"));

    [OneTimeTearDown]
    public void DeleteCache()
    {
        if (Directory.Exists(_cache)) Directory.Delete(_cache, recursive: true);
    }

    // The elicitation task's committed base loads at once (no base to train); small batches keep each step cheap.
    private static RlRunSettings Small(string algorithm) => new()
    {
        Algorithm = algorithm, Task = "elicit2", Seed = 1, Width = 128, Layers = 2, PromptsPerStep = 4, SamplesPerPrompt = algorithm == "grpo" ? 4 : 1,
        LearningRate = 1e-3, ValidationSize = 40, TestSize = 40,
    };

    private static void RequireDevice(string device)
    {
        if (device.StartsWith("cuda", StringComparison.Ordinal) && !cuda.is_available())
            Assert.Ignore($"{device}: CUDA is not available on this machine (torch.cuda.is_available() is false); run benchmarks/gpu-checks.sh on a GPU machine.");
    }

    [TestCase("cpu", "grpo")]
    [TestCase("cpu", "ppo")]
    [TestCase("cuda", "grpo")]
    [TestCase("cuda", "ppo")]
    public void Run_KeepsEveryTensorOnItsDevice_ThroughStepsGuardedJumpsAndEvaluations(string device, string algorithm)
    {
        RequireDevice(device);
        // The KL reference, sampled evaluation (its own generator) and a guarded jump attempt all take part.
        var settings = Small(algorithm) with { Device = device, KlCoefficient = 0.05, EvalSamples = 2 };
        using var run = RlRuns.Create(settings, _cache);
        var expected = run.Device.type;
        Assert.That(expected, Is.EqualTo(device == "cpu" ? DeviceType.CPU : DeviceType.CUDA));
        var options = new AlphaRLOptions { Snapshots = { Interval = 1, Max = 3 }, Attempts = { MinSnapshots = 3, FitThreshold = 1e9, MaxJumps = 1 } };
        long evaluations = 0;
        var result = RlLoop.Train(run, 4, options, onFinished: session => evaluations = session.Evaluations);

        Assert.That(result.Jumps, Is.Not.Empty, "a jump was tried, so the guard evaluated on the device");
        Assert.That(evaluations, Is.GreaterThan(0));
        var tensors = run.Model.parameters().Select(p => ("policy", (Tensor)p))
            .Concat(run.Reference!.parameters().Select(p => ("reference", (Tensor)p)))
            .Concat(run is PpoRun ppo ? ppo.ValueHead.parameters().Select(p => ("value head", (Tensor)p)) : []);
        foreach (var (owner, tensor) in tensors) Assert.That(tensor.device_type, Is.EqualTo(expected), owner);
        Assert.That(run.Evaluate(EvalSplit.Validation), Is.InRange(0.0, 1.0));
        double reward = run.ExpectedReward(EvalSplit.Test);
        Assert.That(reward, Is.GreaterThan(0).And.LessThanOrEqualTo(1));
    }

    [TestCase("grpo")]
    [TestCase("ppo")]
    public void ExplicitCpuFp32_GivesTheSameWeightsAsTheDefaultSettings(string algorithm)
    {
        using var byDefault = RlRuns.Create(Small(algorithm), _cache);
        using var explicitCpu = RlRuns.Create(Small(algorithm) with { Device = "cpu", DType = "fp32" }, _cache);
        var a = Enumerable.Range(0, 3).Select(_ => byDefault.TrainStep()).Select(s => (s.MeanReward, s.Loss)).ToList();
        var b = Enumerable.Range(0, 3).Select(_ => explicitCpu.TrainStep()).Select(s => (s.MeanReward, s.Loss)).ToList();
        Assert.That(b, Is.EqualTo(a));
        Assert.That(WorkloadWeights.Equal(byDefault.Policy, explicitCpu.Policy), Is.True);
        Assert.That(explicitCpu.ExpectedReward(EvalSplit.Test), Is.EqualTo(byDefault.ExpectedReward(EvalSplit.Test)));
    }

    [TestCase("cpu", "grpo")]
    [TestCase("cpu", "ppo")]
    [TestCase("cuda", "grpo")]
    public void Bf16Run_TrainsBf16Weights_WithAFloat32ValueHead(string device, string algorithm)
    {
        RequireDevice(device);
        using var run = RlRuns.Create(Small(algorithm) with { Device = device, DType = "bf16" }, _cache);
        var before = WorkloadWeights.Copy(run.Policy);
        try
        {
            Assert.That(run.Model.parameters().Select(p => p.dtype), Is.All.EqualTo(ScalarType.BFloat16));
            for (int i = 0; i < 3; i++) Assert.That(double.IsFinite(run.TrainStep().Loss), Is.True);
            Assert.That(WorkloadWeights.Changed(run.Policy, before), Does.Contain("layers.0.mlp.up_proj.weight"));
            Assert.That(run.Model.parameters().Select(p => p.dtype), Is.All.EqualTo(ScalarType.BFloat16), "the optimizer keeps the dtype");
            if (run is PpoRun ppo) Assert.That(ppo.ValueHead.parameters().Select(p => p.dtype), Is.All.EqualTo(ScalarType.Float32));
            Assert.That(run.ExpectedReward(EvalSplit.Test), Is.InRange(0.0, 1.0));
        }
        finally
        {
            WorkloadWeights.Dispose(before);
        }
    }

    [TestCase("cpu")]
    [TestCase("cuda")]
    public void Tracker_OnBf16Weights_MeasuresTheUpdateAsFloat64DoesFromTheSameWeights(string device)
    {
        RequireDevice(device);
        using var run = RlRuns.Create(Small("grpo") with { Device = device, DType = "bf16" }, _cache);
        // Converged snapshots: this checks the bf16 measurement against float64, not the warm pass budget (whose
        // accuracy is judged by the jump, docs/performance.md; 3 passes leave σ about 1e-5 off here).
        var options = new AlphaRLOptions {
            Snapshots = { Interval = 1, Max = 5, PowerIteration = AlphaRl.Linalg.PowerIterationOptions.Converged },
            Attempts = { MinSnapshots = 3, MaxJumps = 0 },
};
        var weights = new Dictionary<long, Dictionary<string, Tensor>> { [0] = Float64Copy(run.Policy) };
        var snapshots = new Dictionary<string, IReadOnlyList<AlphaRl.Tracking.Rank1Snapshot>>();
        try
        {
            RlLoop.Train(run, 5, options,
                onStep: (stats, _) => weights[stats.Step] = Float64Copy(run.Policy),
                onFinished: session => { foreach (string m in session.Covered) snapshots[m] = session.Tracker.Snapshots(m).ToList(); });

            Assert.That(snapshots, Has.Count.EqualTo(12)); // q, k, v, o, up, down of two layers
            int compared = 0;
            foreach (var (matrix, series) in snapshots)
                foreach (var snapshot in series)
                {
                    using var scope = NewDisposeScope();
                    var update = weights[snapshot.Step][matrix] - weights[0][matrix];
                    double sigma = linalg.svdvals(update)[0].item<double>(), norm = update.norm().item<double>();
                    Assert.That(sigma, Is.GreaterThan(0), $"{matrix} moved by step {snapshot.Step}");
                    Assert.That(snapshot.Sigma, Is.EqualTo(sigma).Within(1e-3).Percent, $"{matrix} sigma at step {snapshot.Step}");
                    Assert.That(snapshot.UpdateNorm, Is.EqualTo(norm).Within(1e-3).Percent, $"{matrix} norm at step {snapshot.Step}");
                    compared++;
                }
            Assert.That(compared, Is.GreaterThanOrEqualTo(12 * 3));
        }
        finally
        {
            foreach (var w in weights.Values) WorkloadWeights.Dispose(w);
        }
    }

    private static Dictionary<string, Tensor> Float64Copy(nn.Module module)
    {
        using var _ = no_grad();
        return module.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().cpu().to(ScalarType.Float64).DetachFromDisposeScope());
    }
}
