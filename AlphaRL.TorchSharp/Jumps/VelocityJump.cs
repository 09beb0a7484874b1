using System.Buffers;
using System.Runtime.InteropServices;
using AlphaRl.TorchSharp.State;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AlphaRl.TorchSharp.Jumps;

/// <summary>
/// Per-weight velocity: b = the least-squares slope of every weight against the step over the window's snapshots, and
/// the candidate W_e + j·L·b. Kept as running sums, so no window is stored: the running mean of W_t and the co-moment
/// Σ (t − t̄)(W_t − W̄) (Welford's update: the same least-squares slope as (n Σ tW − Σt Σ W) / (n Σt² − (Σt)²), without
/// the float32 cancellation of those raw sums), plus the scalars n, t̄ and Σ (t − t̄)² (Core's
/// <see cref="AlphaRl.Extrapolation.VelocityClock"/>; the per-weight operations are those of
/// <see cref="AlphaRl.Extrapolation.WeightVelocity"/>, which the command-line tool runs on the same series). Memory: 2 float32 copies of the
/// tensors it covers, on their device, or none there with <see cref="StateOnCpu"/>. Use it where the whole update keeps moving, not only its top component (RL-Extra's per-weight line,
/// with the slope taken over the whole window instead of two end points).
/// </summary>
public sealed class VelocityJumpOptions : JumpMethodOptions
{
    /// <inheritdoc />
    public override string Name => "velocity";

    /// <summary>False (default): the covered matrices only. True: every trainable tensor, including embeddings, norms, the head and biases.</summary>
    public bool IncludeUncovered { get; set; }

    /// <summary>
    /// Keep the running sums in host memory instead of on each parameter's device, so that the velocity holds no device
    /// memory between steps (2 float32 copies of the moved tensors are 2x their bytes for fp32 weights and 4x for bf16). At
    /// each snapshot the moved tensors are copied to the host in their own dtype (2 bytes a value for bf16) and folded into
    /// the sums on a worker thread while training goes on; an attempt moves each tensor's co-moment to its device, one
    /// tensor at a time. The same float32 operations in the same order as the sums beside CPU parameters, so the jump is
    /// the same bit for bit there; beside CUDA parameters the device's kernels may round the division by n otherwise, so
    /// the jumps agree to float32 rounding. Default false.
    /// </summary>
    public bool StateOnCpu { get; set; }

    /// <summary>
    /// Snapshots at the start of each window left out of the slope (the warm-up, e.g. right after a jump while the
    /// optimizer's moments rebuild). At most MinSnapshots − 2, so that two snapshots remain. Default 0.
    /// </summary>
    public int SkipSnapshots { get; set; }

    internal override IEnumerable<(string Setting, object? Value, string Expected)> Problems(int minSnapshots)
    {
        if (SkipSnapshots < 0 || SkipSnapshots > minSnapshots - 2)
            yield return (nameof(SkipSnapshots), SkipSnapshots, $"must be between 0 and Attempts.MinSnapshots − 2 ({minSnapshots - 2}), so that two snapshots remain for the slope");
    }

    internal override IJumpMethod Create(JumpMethodContext context) => new VelocityJump(context, IncludeUncovered, StateOnCpu, SkipSnapshots);
}

/// <summary>The per-weight velocity jump (<see cref="VelocityJumpOptions"/>).</summary>
internal sealed class VelocityJump : IJumpMethod
{
    private readonly List<Func<(string Name, Parameter Parameter)>> _tensors = new();
    private readonly Tensor?[] _mean, _comoment;
    private readonly bool _onCpu;
    private readonly int _skip;
    private readonly AlphaRl.Extrapolation.VelocityClock _clock = new();
    private Task? _pending;

    /// <summary>Fold CPU parameters with the torch operations the other devices use, instead of Core's span pass (tests
    /// and benchmarks: the two must give the same bits).</summary>
    internal static bool TorchOpsOnCpu { get; set; }

    public VelocityJump(JumpMethodContext context, bool includeUncovered, bool onCpu, int skip = 0)
    {
        _skip = skip;
        // Covered matrices are read through the tracker, which follows parameters the module replaced.
        foreach (var m in context.Tracker.Covered) _tensors.Add(() => (m.Name, m.Parameter));
        if (includeUncovered)
            foreach (var u in context.Uncovered()) _tensors.Add(() => u);
        _mean = new Tensor?[_tensors.Count];
        _comoment = new Tensor?[_tensors.Count];
        _onCpu = onCpu;
    }

    public string Name => "velocity";

    public long MemoryBytes => _mean.Concat(_comoment).Sum(t => t is null ? 0 : t.NumberOfElements * t.ElementSize);

    public long HostMemoryBytes => _onCpu ? MemoryBytes : 0;

    public IReadOnlyList<Parameter> Touches => _tensors.Select(t => t().Parameter).ToList();

    public void Observe(WindowView window)
    {
        if (window.Observed <= _skip) return;
        Settle();
        if (_onCpu)
        {
            ObserveOnHost(window);
            return;
        }
        var observation = _clock.Add(window.Last - window.Start);
        using var noGrad = no_grad();
        for (int i = 0; i < _tensors.Count; i++)
        {
            using var scope = NewDisposeScope();
            var (name, p) = _tensors[i]();
            EnsureShape(i, name, p);
            bool onHost = p.device_type == DeviceType.CPU && !TorchOpsOnCpu && _mean[i] is null or { device_type: DeviceType.CPU };
            EnsureSums(i, p, onHost ? CPU : p.device);
            // On the CPU the sums are folded from the parameter's own memory: Core's one pass, no temporaries.
            // Elsewhere WeightVelocity.Observe on tensors: the same float32 operations in the same order.
            if (onHost) FoldOnHost(_mean[i]!, _comoment[i]!, p.detach(), observation);
            else Fold(_mean[i]!, _comoment[i]!, p.detach().to(ScalarType.Float32), observation);
        }
    }

    /// <summary>Allocates tensor <paramref name="i"/>'s running sums on <paramref name="device"/> the first time they are needed.</summary>
    private void EnsureSums(int i, Tensor parameter, Device device)
    {
        if (_mean[i] is not null) return;
        _mean[i] = zeros(parameter.shape, ScalarType.Float32, device).DetachFromDisposeScope();
        _comoment[i] = zeros(parameter.shape, ScalarType.Float32, device).DetachFromDisposeScope();
    }

    /// <summary>
    /// The host path: a worker thread copies every moved tensor to the host in its own dtype while the caller waits (the
    /// trainer may change the weights as soon as this returns), then folds the copies into the sums and frees them while
    /// training goes on. Every other call waits for that fold first (<see cref="Settle"/>). The copies are made and freed
    /// on the worker, so TorchSharp's per-thread counts of live tensors stay balanced on both threads.
    /// </summary>
    private void ObserveOnHost(WindowView window)
    {
        var parameters = new Parameter[_tensors.Count];
        for (int i = 0; i < _tensors.Count; i++)
        {
            var (name, p) = _tensors[i]();
            EnsureShape(i, name, p);
            parameters[i] = p;
            EnsureSums(i, p, CPU);
        }
        var observation = _clock.Add(window.Last - window.Start);
        long step = window.Last;
        var copied = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending = Task.Run(() =>
        {
            var copies = new Tensor?[parameters.Length];
            try
            {
                using var noGrad = no_grad();
                try
                {
                    for (int i = 0; i < parameters.Length; i++)
                    {
                        using var scope = NewDisposeScope();
                        var p = parameters[i];
                        // On a CPU parameter a copy (the trainer's next step would change a view); elsewhere the transfer is the copy.
                        copies[i] = (p.device_type == DeviceType.CPU ? p.detach().clone() : p.detach().cpu()).DetachFromDisposeScope();
                    }
                }
                catch (Exception e)
                {
                    copied.SetException(e);
                    return;
                }
                copied.SetResult();
                for (int i = 0; i < copies.Length; i++)
                {
                    FoldOnHost(_mean[i]!, _comoment[i]!, copies[i]!, observation);
                    copies[i]!.Dispose();
                    copies[i] = null;
                }
            }
            catch (Exception e)
            {
                // Some sums hold this snapshot and some do not: the window's velocity is lost, not wrong.
                _clock.Reset();
                throw new AlphaRLException($"Jump method 'velocity' could not fold the snapshot at step {step} into its host sums ({e.Message}); its window starts again.", e);
            }
            finally
            {
                foreach (var c in copies) c?.Dispose();
            }
        });
        try
        {
            copied.Task.GetAwaiter().GetResult();
        }
        catch
        {
            _pending = null;
            _clock.Reset();
            throw;
        }
    }

    /// <summary>Values widened from bf16 at a time: 64 KiB of float32, so that each chunk is folded while it is in cache.</summary>
    private const int Chunk = 16384;

    /// <summary>
    /// Folds weights in host memory (a CPU parameter, or the host path's copy) into sums in host memory: Core's
    /// <see cref="AlphaRl.Extrapolation.WeightVelocity.Observe"/> on the tensors' memory, one pass with no temporaries
    /// (bf16 widened a chunk at a time), the same float32 operations as <see cref="Fold"/>. Tensors beyond a span's reach,
    /// or sums that are not contiguous, go through <see cref="Fold"/>.
    /// </summary>
    private static void FoldOnHost(Tensor mean, Tensor comoment, Tensor weights, AlphaRl.Extrapolation.VelocityObservation observation)
    {
        using var scope = NewDisposeScope();
        if (weights.NumberOfElements > int.MaxValue / sizeof(float) || !mean.is_contiguous() || !comoment.is_contiguous())
        {
            Fold(mean, comoment, weights.to(ScalarType.Float32), observation);
            return;
        }
        var m = MemoryMarshal.Cast<byte, float>(mean.bytes);
        var c = MemoryMarshal.Cast<byte, float>(comoment.bytes);
        var contiguous = weights.contiguous();
        if (contiguous.dtype == ScalarType.BFloat16)
        {
            var bits = MemoryMarshal.Cast<byte, ushort>(contiguous.bytes);
            var buffer = ArrayPool<float>.Shared.Rent(Chunk);
            try
            {
                for (int start = 0; start < bits.Length; start += Chunk)
                {
                    int length = Math.Min(Chunk, bits.Length - start);
                    var values = buffer.AsSpan(0, length);
                    AlphaRl.Linalg.TopSingular.WidenBFloat16(bits.Slice(start, length), values);
                    AlphaRl.Extrapolation.WeightVelocity.Observe(m.Slice(start, length), c.Slice(start, length), values, observation);
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(buffer);
            }
            return;
        }
        var floats = contiguous.dtype == ScalarType.Float32 ? contiguous : contiguous.to(ScalarType.Float32);
        AlphaRl.Extrapolation.WeightVelocity.Observe(m, c, MemoryMarshal.Cast<byte, float>(floats.bytes), observation);
    }

    /// <summary>WeightVelocity.Observe on tensors: the first observation sets mean = W and co-moment = 0; later ones do
    /// mean += (W − mean)/n, then co-moment += (W − mean)·(t − t̄).</summary>
    private static void Fold(Tensor mean, Tensor comoment, Tensor w, AlphaRl.Extrapolation.VelocityObservation observation)
    {
        if (observation.Count == 1)
        {
            mean.copy_(w);
            comoment.zero_();
            return;
        }
        mean.add_((w - mean) / observation.Count);
        comoment.add_((w - mean) * observation.StepOffset);
    }

    private void EnsureShape(int i, string name, Tensor w)
    {
        if (_mean[i] is { } mean && !mean.shape.SequenceEqual(w.shape))
            throw new AlphaRLException($"Parameter '{name}' changed shape: [{string.Join(", ", mean.shape)}] when the velocity began and [{string.Join(", ", w.shape)}] now.");
    }

    /// <summary>Waits for the host path's fold of the last snapshot, rethrowing what went wrong in it.</summary>
    private void Settle()
    {
        if (_pending is not { } pending) return;
        _pending = null;
        pending.GetAwaiter().GetResult();
    }

    public void Reset()
    {
        Settle();
        _clock.Reset();
    }

    public void Apply(WindowView window, long targetStep)
    {
        Settle();
        long delta = targetStep - window.Last;
        if (!_clock.HasSlope)
            throw new InvalidOperationException($"Jump method 'velocity' needs two snapshots in the window to take a slope; it has {_clock.Count} after skipping {_skip}. Nothing was written.");
        double factor = _clock.Factor(delta);
        using var noGrad = no_grad();
        for (int i = 0; i < _tensors.Count; i++)
        {
            using var scope = NewDisposeScope();
            var (name, p) = _tensors[i]();
            var current = p.detach().to(ScalarType.Float32);
            // WeightVelocity.Jump on tensors: W_e + co-moment · (float)factor.
            CandidateWriter.Write(name, p, current + _comoment[i]!.to(current.device) * factor);
        }
    }

    public void Save(MethodState state)
    {
        Settle();
        state.Scalars["used"] = _clock.Count;
        state.Scalars["meanStep"] = _clock.MeanStep;
        state.Scalars["stepComoment"] = _clock.StepComoment;
        for (int i = 0; i < _tensors.Count; i++)
        {
            string name = _tensors[i]().Name;
            if (_mean[i] is { } mean) state.Tensors[$"mean/{name}"] = mean;
            if (_comoment[i] is { } comoment) state.Tensors[$"comoment/{name}"] = comoment;
        }
    }

    public void Load(MethodState state)
    {
        Settle();
        int used = (int)state.Scalar(Name, "used");
        double meanStep = state.Scalar(Name, "meanStep"), stepComoment = state.Scalar(Name, "stepComoment");
        try
        {
            new AlphaRl.Extrapolation.VelocityClock().Restore(used, meanStep, stepComoment);
        }
        catch (ArgumentException e)
        {
            throw new AlphaRLException($"The saved state of jump method 'velocity' is inconsistent: {e.Message}");
        }
        var loaded = new List<Tensor>(2 * _tensors.Count);
        // Once the slope has begun every moved tensor has running sums (before it, any saved sums are stale and unused).
        // A tensor frozen when the session was saved and trainable now has none: the velocity cannot continue.
        if (used > 0)
        {
            var missing = _tensors.Select(t => t().Name).Where(name => !state.Tensors.ContainsKey($"mean/{name}")).ToList();
            if (missing.Count > 0)
                throw new AlphaRLException($"The saved state of jump method 'velocity' has no running sums for {string.Join(", ", missing.Select(n => $"'{n}'"))}, " +
                    "which this policy trains (frozen when the session was saved?). Freeze the same tensors as then, or start a new session.");
            try
            {
                foreach (var (name, p) in _tensors.Select(t => t()))
                {
                    var device = _onCpu ? CPU : p.device;
                    loaded.Add(MethodState.Copy(Name, $"mean/{name}", state.Tensor(Name, $"mean/{name}"), p.shape, ScalarType.Float32, device));
                    loaded.Add(MethodState.Copy(Name, $"comoment/{name}", state.Tensor(Name, $"comoment/{name}"), p.shape, ScalarType.Float32, device));
                }
            }
            catch
            {
                foreach (var t in loaded) t.Dispose();
                throw;
            }
        }
        Dispose();
        for (int i = 0; i < loaded.Count / 2; i++) (_mean[i], _comoment[i]) = (loaded[2 * i], loaded[2 * i + 1]);
        _clock.Restore(used, meanStep, stepComoment);
    }

    public void Dispose()
    {
        try
        {
            Settle();
        }
        catch (AlphaRLException)
        {
            // Freed either way: a failed fold only lost the window's sums.
        }
        foreach (var t in _mean.Concat(_comoment)) t?.Dispose();
        Array.Clear(_mean);
        Array.Clear(_comoment);
    }
}
