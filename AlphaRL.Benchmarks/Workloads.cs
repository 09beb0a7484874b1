using AlphaRl.Linalg;
using AlphaRl.TorchSharp.Tracking;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AlphaRl.Benchmarks;

/// <summary>
/// Synthetic cumulative updates shaped like an RL run's: a rank-1 direction that grows with the step plus a
/// full-rank random walk, so dW is close to full rank in energy but has a clear (not huge) top singular gap.
/// </summary>
internal static class Workloads
{
    /// <summary>Matrix sizes of the top-triplet benchmarks, rows x cols.</summary>
    public static readonly MatrixSize[] Sizes = [new(256, 256), new(512, 512), new(1024, 1024), new(2048, 2048), new(4096, 1024)];

    /// <summary>
    /// The update at a snapshot and the one taken one snapshot interval earlier, float32, row-major:
    /// dW_prev = 0.9 S + N, dW = S + N + 0.3 N', with S rank-1, N and N' Gaussian. s1(S) is twice the top singular
    /// value of N, so s2/s1 of dW is about 0.5: power iteration on AᵀA gains about 0.6 decades per iteration.
    /// </summary>
    public static (Tensor Current, Tensor Previous) UpdatePair(int rows, int cols, long seed)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)seed);
        var u = randn(rows, generator: generator);
        var v = randn(cols, generator: generator);
        u /= u.norm();
        v /= v.norm();
        double noiseTop = Math.Sqrt(rows) + Math.Sqrt(cols); // top singular value of an iid N(0,1) matrix
        var signal = outer(u, v) * (2.0 * noiseTop);
        var noise = randn(rows, cols, generator: generator);
        var increment = randn(rows, cols, generator: generator) * 0.3;
        var previous = signal * 0.9 + noise;
        var current = signal + noise + increment;
        return (current.contiguous().DetachFromDisposeScope(), previous.contiguous().DetachFromDisposeScope());
    }

    /// <summary>Name of the environment variable that puts the BenchmarkDotNet workloads on a device (cpu, cuda, cuda:N).</summary>
    public const string DeviceVariable = "ALPHARL_BENCH_DEVICE";

    /// <summary>
    /// The device of the BenchmarkDotNet workloads: <see cref="DeviceVariable"/> when set (BenchmarkDotNet's child
    /// processes inherit it), else the CPU. The values are drawn on the CPU and moved, so they are the same everywhere.
    /// </summary>
    public static Device Device { get; } = Environment.GetEnvironmentVariable(DeviceVariable) is { Length: > 0 } name
        ? AlphaRl.Workloads.ComputeDevice.Parse(name, DeviceVariable)
        : CPU;

    /// <summary>The update of one size in <paramref name="dtype"/> on <see cref="Device"/>, with the warm start the
    /// tracker would pass: the V of the previous snapshot's update (see <see cref="UpdatePair"/>).</summary>
    public static (Tensor Update, float[] WarmStart) UpdateWithWarmStart(MatrixSize size, ScalarType dtype = ScalarType.Float32)
    {
        var (current, previous) = UpdatePair(size.Rows, size.Cols, seed: size.Rows * 7919 + size.Cols);
        float[] warmStart;
        using (var previousInDType = previous.to(dtype).to(Device)) warmStart = WarmStartFrom(previousInDType);
        previous.Dispose();
        var update = current.to(dtype).to(Device);
        if (!ReferenceEquals(update, current)) current.Dispose();
        return (update, warmStart);
    }

    /// <summary>The previous snapshot's V: the warm start the tracker passes at the next snapshot.</summary>
    public static float[] WarmStartFrom(Tensor previous) => AlphaRl.TorchSharp.Linalg.TorchTopSingular.Compute(previous).V;

    public static float[] ToArray(Tensor t) => t.detach().cpu().to(ScalarType.Float32).contiguous().data<float>().ToArray();

    /// <summary>Matrices of a decoder-only transformer: per layer q, k, v, o (d x d), up (4d x d), down (d x 4d).</summary>
    public static IEnumerable<(string Name, int Rows, int Cols)> TransformerMatrices(int layers, int d)
    {
        for (int l = 0; l < layers; l++)
        {
            foreach (var p in new[] { "q_proj", "k_proj", "v_proj", "o_proj" })
                yield return ($"layers.{l}.attn.{p}", d, d);
            yield return ($"layers.{l}.mlp.up_proj", 4 * d, d);
            yield return ($"layers.{l}.mlp.down_proj", d, 4 * d);
        }
    }
}

/// <summary>
/// The covered parameters of a realistic model shape (8 layers, d = 512, MLP 4x: 25.2 M weights) with a
/// deterministic "training" that moves them like an RL run: a per-matrix rank-1 drift plus full-rank noise. The
/// parameters live on <see cref="Workloads.Device"/>; the noise is drawn on the CPU.
/// </summary>
internal sealed class RealisticModel : IDisposable
{
    public const int Layers = 8;
    public const int Width = 512;

    private readonly List<(Parameter P, Tensor U, Tensor V, double Scale)> _drift = new();
    private readonly Generator _generator;

    public RealisticModel(ScalarType dtype, long seed = 7, int width = Width)
    {
        _generator = new Generator((ulong)seed);
        using var noGrad = no_grad();
        foreach (var (name, rows, cols) in Workloads.TransformerMatrices(Layers, width))
        {
            var p = new Parameter((randn(rows, cols, generator: _generator) * 0.02).to(dtype).to(Workloads.Device));
            var u = randn(rows, generator: _generator);
            var v = randn(cols, generator: _generator);
            u /= u.norm();
            v /= v.norm();
            u = u.to(Workloads.Device);
            v = v.to(Workloads.Device);
            Covered.Add(new CoveredMatrix(name, p));
            _drift.Add((p, u, v, 1e-4 * (Math.Sqrt(rows) + Math.Sqrt(cols))));
        }
    }

    public List<CoveredMatrix> Covered { get; } = new();

    /// <summary>Bytes of the covered weights in their own dtype.</summary>
    public long ModelBytes => Covered.Sum(m => m.Parameter.NumberOfElements * m.Parameter.ElementSize);

    /// <summary>A tracker on this model's matrices with <paramref name="snapshots"/> snapshots already taken, one
    /// every <paramref name="interval"/> steps, the weights moved before each.</summary>
    public TorchSubspaceTracker StartTracking(int snapshots, int interval = 10)
    {
        var tracker = new TorchSubspaceTracker(Covered);
        for (int s = 1; s <= snapshots; s++)
        {
            Train();
            tracker.Observe(s * interval);
        }
        return tracker;
    }

    /// <summary>Moves every parameter by one "training interval": 2x the noise's top singular value along the
    /// matrix's own rank-1 direction plus iid noise of scale 1e-4.</summary>
    public void Train(int steps = 1)
    {
        using var noGrad = no_grad();
        for (int s = 0; s < steps; s++)
        {
            foreach (var (p, u, v, scale) in _drift)
            {
                using var scope = NewDisposeScope();
                var step = outer(u, v) * (2.0 * scale) + randn(p.shape, generator: _generator).to(p.device) * 1e-4;
                p.copy_((p.to(ScalarType.Float32) + step).to(p.dtype));
            }
        }
    }

    public void Dispose()
    {
        foreach (var (p, u, v, _) in _drift)
        {
            p.Dispose();
            u.Dispose();
            v.Dispose();
        }
        _generator.Dispose();
    }
}

/// <summary>A matrix shape shown as rows x cols, ordered by size in the tables.</summary>
public readonly record struct MatrixSize(int Rows, int Cols) : IComparable
{
    public int CompareTo(object? obj) => obj is MatrixSize other
        ? ((long)Rows * Cols).CompareTo((long)other.Rows * other.Cols) is var bySize and not 0 ? bySize : Rows.CompareTo(other.Rows)
        : 1;

    public override string ToString() => $"{Rows}x{Cols}";
}

internal static class ScalarExtensions
{
    /// <summary>The value of a 0-d tensor of any floating dtype as a float.</summary>
    public static float AsSingle(this Tensor scalar)
    {
        using var f = scalar.to(ScalarType.Float32);
        return f.item<float>();
    }
}
