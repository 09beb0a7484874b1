using AlphaRl.Checkpoints;
using AlphaRl.Extrapolation;

namespace AlphaRl.Cli;

/// <summary>
/// Writes the velocity or direction jump of one tensor to every candidate's stream, slice by slice: for each slice of
/// at most <paramref name="sliceElements"/> values it reads that slice of the checkpoints it needs (the window for the
/// velocity, W0 and W_e for the direction) and writes, for each candidate k, the velocity's jump
/// (<see cref="WeightVelocity.Jump(ReadOnlySpan{float}, long, Span{float})"/>, steps measured from the base step as the
/// hook measures them from its window's start) or W_e + scale_k·(W_e − W0).
/// Memory is a few slices, whatever the tensor's size. Candidates that are W_e itself get the stored bytes unchanged.
/// The window began at <c>windowStart</c> (L = e − s scales the report's jump per window); <c>stored</c>, when given,
/// holds the velocity's running sums from a snapshot store, used instead of reading the window's checkpoints.
/// </summary>
internal sealed class LinearJumpWriter(CheckpointSeries series, JumpMethod method, IReadOnlyList<Candidate> candidates, long windowStart,
    StoredSums? stored = null, int sliceElements = 1 << 20)
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
        long last = series.Steps[^1], window = last - windowStart;
        var scales = candidates.Select(c => method == JumpMethod.Velocity ? double.NaN
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
            LinearWeightJump.EnsureFinite(w0, name, baseTensor.File.Path, offset);
            if (method == JumpMethod.Velocity && stored is not null)
            {
                // From the store: W_e and the stored co-moment; the slope b = co-moment / Σ(t − t̄)².
                lastTensor.ReadFloats(offset, we);
                LinearWeightJump.EnsureFinite(we, name, lastTensor.File.Path, offset);
                var comoment = _first.AsSpan(0, length);
                stored.File.ReadFloats(stored.File.Tensor(name + "/comoment"), offset, comoment);
                Finite.Ensure(comoment, stored.File.Path, name + "/comoment", "in the store's velocity sums", offset);
                for (int i = 0; i < length; i++)
                {
                    delta[i] = (float)(comoment[i] / stored.Clock.StepComoment);
                    deltaSq += (double)delta[i] * delta[i];
                }
            }
            else if (method == JumpMethod.Velocity)
            {
                _velocity.Reset(name, length, offset, origin: series.BaseStep);
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
                LinearWeightJump.EnsureFinite(we, name, lastTensor.File.Path, offset);
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
                if (method == JumpMethod.Velocity && stored is not null)
                    WeightVelocity.Jump(we, _first.AsSpan(0, length), stored.Clock.Factor(candidates[k].TargetStep - last), jumped);
                else if (method == JumpMethod.Velocity) _velocity.Jump(we, candidates[k].TargetStep - last, jumped);
                else LinearWeightJump.Apply(we, delta, scales[k], jumped);
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
            method == JumpMethod.Velocity && stored is null ? (deltaSq > 0 && displacementSq > 0 ? inner / Math.Sqrt(deltaSq * displacementSq) : double.NaN) : null));
    }
}

/// <summary>A store's velocity sums, open for a prediction: the file of co-moments and the step scalars.</summary>
internal sealed record StoredSums(SafetensorsFile File, VelocityClock Clock);
