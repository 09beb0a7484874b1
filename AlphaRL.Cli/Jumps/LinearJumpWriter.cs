using AlphaRl.Checkpoints;
using AlphaRl.Extrapolation;

namespace AlphaRl.Cli;

/// <summary>
/// Writes the velocity or direction jump of one tensor to every candidate's stream, slice by slice: for each slice of
/// at most <paramref name="sliceElements"/> values it reads that slice of the checkpoints it needs (the window for the
/// velocity, W0 and W_e for the direction), forms Δ (b, or W_e − W0) and writes W_e + scale_k·Δ for each candidate k.
/// Memory is a few slices, whatever the tensor's size. Candidates that are W_e itself get the stored bytes unchanged.
/// </summary>
internal sealed class LinearJumpWriter(CheckpointSeries series, JumpMethod method, IReadOnlyList<Candidate> candidates, int sliceElements = 1 << 20)
{
    private readonly WeightVelocity _velocity = new();
    private readonly float[] _base = new float[sliceElements];
    private readonly float[] _first = new float[sliceElements];
    private readonly float[] _last = new float[sliceElements];
    private readonly float[] _delta = new float[sliceElements];
    private readonly float[] _jumped = new float[sliceElements];
    private readonly List<TensorJumpReport> _reports = new();

    public IReadOnlyList<TensorJumpReport> Reports => _reports;

    public void Write(CheckpointTensor tensor, IReadOnlyList<Stream> streams)
    {
        var info = tensor.Info;
        string name = info.Name;
        long first = series.Steps[0], last = series.Steps[^1], window = last - first;
        var scales = candidates.Select(c => method == JumpMethod.Velocity
            ? LinearWeightJump.VelocityScale(last, c.TargetStep)
            : LinearWeightJump.DirectionScale(series.BaseStep, last, c.TargetStep)).ToArray();
        for (int k = 0; k < candidates.Count; k++)
            if (candidates[k].NoJump) tensor.File.CopyRawTo(info, streams[k]);

        var baseTensor = series.Base.Tensor(name);
        var lastTensor = series.Last.Tensor(name);
        double lastSq = 0, baseSq = 0, updateSq = 0, deltaSq = 0, displacementSq = 0, inner = 0;
        long n = info.ElementCount;
        for (long offset = 0; offset < n; offset += sliceElements)
        {
            int length = (int)Math.Min(sliceElements, n - offset);
            Span<float> w0 = _base.AsSpan(0, length), ws = _first.AsSpan(0, length), we = _last.AsSpan(0, length),
                delta = _delta.AsSpan(0, length), jumped = _jumped.AsSpan(0, length);
            baseTensor.ReadFloats(offset, w0);
            LinearWeightJump.EnsureFinite(w0, name, baseTensor.File.Path);
            if (method == JumpMethod.Velocity)
            {
                _velocity.Reset(name, length, offset);
                for (int i = 0; i < series.Window.Count; i++)
                {
                    var t = series.Window[i].Checkpoint.Tensor(name);
                    var target = i == 0 ? ws : we;
                    t.ReadFloats(offset, target);
                    _velocity.Add(series.Window[i].Step, target, t.File.Path);
                }
                _velocity.Slope(delta);
                for (int i = 0; i < length; i++)
                {
                    double d = (double)we[i] - ws[i];
                    inner += d * delta[i];
                    displacementSq += d * d;
                    deltaSq += (double)delta[i] * delta[i];
                }
            }
            else
            {
                lastTensor.ReadFloats(offset, we);
                LinearWeightJump.EnsureFinite(we, name, lastTensor.File.Path);
                for (int i = 0; i < length; i++) delta[i] = we[i] - w0[i];
            }
            for (int i = 0; i < length; i++)
            {
                double u = (double)we[i] - w0[i];
                updateSq += u * u;
                lastSq += (double)we[i] * we[i];
                baseSq += (double)w0[i] * w0[i];
            }
            for (int k = 0; k < candidates.Count; k++)
            {
                if (candidates[k].NoJump) continue;
                LinearWeightJump.Apply(we, delta, scales[k], jumped);
                OutputRange.Ensure(jumped, info.DType, name, candidates[k].TargetStep, offset);
                SafetensorsFile.WriteFloats(streams[k], jumped, info.DType);
            }
        }
        // Size of the j = 1 jump (one window length ahead) relative to W_e, and for the velocity how well the slope
        // lines up with the window's displacement W_e − W_s (1 on a straight path).
        double perWindow = method == JumpMethod.Velocity
            ? window * Math.Sqrt(deltaSq)
            : (double)window / (last - series.BaseStep) * Math.Sqrt(updateSq);
        _reports.Add(new TensorJumpReport(name, info.ShapeText,
            baseSq > 0 ? Math.Sqrt(updateSq / baseSq) : double.NaN,
            lastSq > 0 ? perWindow / Math.Sqrt(lastSq) : double.NaN,
            method == JumpMethod.Velocity ? (deltaSq > 0 && displacementSq > 0 ? inner / Math.Sqrt(deltaSq * displacementSq) : double.NaN) : null));
    }
}
