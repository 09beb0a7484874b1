using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using System.Runtime.InteropServices;
using AlphaRl.Linalg;
using AlphaRl.TorchSharp.Linalg;
using BenchmarkDotNet.Attributes;
using static TorchSharp.torch;

namespace AlphaRl.Benchmarks;

/// <summary>
/// A snapshot of one matrix with the default settings, warm-started from the previous snapshot's V, against the
/// physical floor: reading W_t and W0 once (a plain SIMD sum over both, on two threads from the size at which the
/// kernel uses two). Span kernel (fp32, and bf16 widened in the kernel) and the device path (TorchSharp ops, as on a
/// GPU) run on the CPU. Ratio is the snapshot's cost in "reads of W_t and W0".
/// </summary>
[Config(typeof(ShortNoisyConfig))]
public class SnapshotVsReadBoth
{
    private float[] _current32 = null!, _initial32 = null!, _warmStart = null!;
    private ushort[] _current16 = null!, _initial16 = null!;
    private Tensor _current = null!, _initial = null!;
    private int _rows, _cols;

    [ParamsSource(nameof(Sizes))]
    public MatrixSize Size { get; set; }

    [Params(ScalarType.Float32, ScalarType.BFloat16)]
    public ScalarType DType { get; set; }

    public static IEnumerable<MatrixSize> Sizes => [new(512, 512), new(1024, 1024), new(2048, 2048), new(4096, 1024)];

    [GlobalSetup]
    public void Setup()
    {
        (_rows, _cols) = Size;
        using var scope = NewDisposeScope();
        var (update, previous) = Workloads.UpdatePair(_rows, _cols, seed: _rows * 7919 + _cols);
        var w0 = randn(_rows, _cols, generator: new Generator(3UL)) * 0.02;
        var wt = (w0 + update * 1e-3).to(DType).contiguous();
        var wPrevious = (w0 + previous * 1e-3).to(DType).contiguous();
        w0 = w0.to(DType).contiguous();
        _warmStart = TorchTopSingular.ComputeOfDifference(wPrevious, w0, default, PowerIterationOptions.Converged).V;
        _current = wt.to(ScalarType.Float32).DetachFromDisposeScope();
        _initial = w0.to(ScalarType.Float32).DetachFromDisposeScope();
        _current32 = Workloads.ToArray(wt);
        _initial32 = Workloads.ToArray(w0);
        if (DType == ScalarType.BFloat16)
        {
            _current16 = MemoryMarshal.Cast<byte, ushort>(wt.bytes).ToArray();
            _initial16 = MemoryMarshal.Cast<byte, ushort>(w0.bytes).ToArray();
        }
        update.Dispose();
        previous.Dispose();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _current.Dispose();
        _initial.Dispose();
    }

    [Benchmark(Baseline = true, Description = "read W_t and W0 once (sum)")]
    public float ReadBoth() => DType == ScalarType.BFloat16
        ? Sum(_current16) + Sum(_initial16)
        : Sum(_current32) + Sum(_initial32);

    [Benchmark(Description = "snapshot, span kernel")]
    public float SpanSnapshot() => DType == ScalarType.BFloat16
        ? TopSingular.ComputeOfDifferenceBFloat16(_current16, _initial16, _rows, _cols, _warmStart).Value
        : TopSingular.ComputeOfDifference(_current32, _initial32, _rows, _cols, _warmStart).Value;

    /// <summary>The device path on the CPU; its inputs are float32 tensors (on a GPU a bf16 matrix is widened first).</summary>
    [Benchmark(Description = "snapshot, device path (torch ops)")]
    public float DeviceSnapshot() => TorchTopSingular.ComputeOfDifferenceWithTorchOps(_current, _initial, _warmStart, PowerIterationOptions.Default).Value;

    private static float Sum<T>(T[] values) where T : unmanaged, System.Numerics.INumber<T>
    {
        if (values.Length < 1 << 19) return float.CreateTruncating(TensorPrimitives.Sum<T>(values));
        int half = values.Length / 2;
        T first = T.Zero, second = T.Zero;
        Parallel.Invoke(() => first = TensorPrimitives.Sum<T>(values.AsSpan(0, half)), () => second = TensorPrimitives.Sum<T>(values.AsSpan(half)));
        return float.CreateTruncating(first + second);
    }
}
