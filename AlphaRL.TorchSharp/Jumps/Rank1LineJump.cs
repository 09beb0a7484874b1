using AlphaRl.Extrapolation;
using AlphaRl.TorchSharp.State;
using AlphaRl.TorchSharp.Tracking;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AlphaRl.TorchSharp.Jumps;

/// <summary>
/// The paper's method. Per covered matrix, the line fitted to the tracker's rank-1 vectors x_t = s1 u1 is extrapolated
/// to T = e + j·L and W_pred = W_e + (x̂_T − x_e) v_eᵀ (<see cref="JumpForm.Increment"/>; the released scripts' forms
/// stay available). Memory: nothing beyond the tracker's O(m + n) floats per matrix per snapshot, plus one copy of the
/// uncovered trainable tensors when they are extrapolated (<see cref="UncoveredTensors.Extrapolate"/>). Use it where the
/// update is dominated by one direction per matrix; it cannot follow the rest of the update.
/// </summary>
public sealed class Rank1LineJumpOptions : JumpMethodOptions
{
    /// <inheritdoc />
    public override string Name => "rank1";

    /// <summary>How the prediction becomes weights. Default <see cref="JumpForm.Increment"/>: W_e + (x̂ − x_e) v_eᵀ.</summary>
    public JumpForm Form { get; set; } = JumpForm.Increment;

    /// <summary>What happens to trainable tensors that are not covered (embeddings, head, norms, biases). Default <see cref="UncoveredTensors.Keep"/>: they keep W_e's values.</summary>
    public UncoveredTensors Uncovered { get; set; } = UncoveredTensors.Keep;

    internal override IEnumerable<(string Setting, object? Value, string Expected)> Problems(int minSnapshots)
    {
        if (!Enum.IsDefined(Form)) yield return (nameof(Form), Form, "must be Increment, AddToLast or AddToBase");
        if (!Enum.IsDefined(Uncovered)) yield return (nameof(Uncovered), Uncovered, "must be Keep or Extrapolate");
    }

    internal override IJumpMethod Create(JumpMethodContext context) => new Rank1LineJump(context, Form, Uncovered);
}

/// <summary>What a rank-1 jump does to trainable tensors that AlphaRL does not cover.</summary>
public enum UncoveredTensors
{
    /// <summary>They keep the values they have at the end of the window (W_e).</summary>
    Keep,

    /// <summary>
    /// A plain linear extrapolation from the window: W_T = W_e + (T − e)/(e − s) · (W_e − W_s), where s is the window's
    /// first snapshot. Costs one copy of the uncovered tensors, taken at that snapshot.
    /// </summary>
    Extrapolate,
}

/// <summary>The rank-1 line jump (<see cref="Rank1LineJumpOptions"/>).</summary>
internal sealed class Rank1LineJump : IJumpMethod
{
    private readonly JumpMethodContext _context;
    private readonly JumpForm _form;
    private readonly UncoveredTensors _uncovered;
    private readonly List<(string Name, Parameter Parameter, Tensor Start)> _uncoveredStart = new();
    private long _firstStep;
    private List<TrajectoryFit>? _fits;

    public Rank1LineJump(JumpMethodContext context, JumpForm form, UncoveredTensors uncovered)
    {
        _context = context;
        _form = form;
        _uncovered = uncovered;
    }

    public string Name => "rank1";

    public long MemoryBytes => _uncoveredStart.Sum(u => u.Start.NumberOfElements * u.Start.ElementSize);

    public IReadOnlyList<Parameter> Touches =>
        _context.Tracker.Covered.Select(m => m.Parameter).Concat(_uncoveredStart.Select(u => u.Parameter)).ToList();

    public void Observe(WindowView window)
    {
        _fits = null;
        if (window.Observed > 1 || _uncovered != UncoveredTensors.Extrapolate) return;
        // W_s of the uncovered tensors at the window's first snapshot, for their plain linear extrapolation.
        DisposeUncovered();
        foreach (var (name, parameter) in _context.Uncovered())
            _uncoveredStart.Add((name, parameter, WeightBackup.Copy(parameter, onCpu: false)));
        _firstStep = window.Last;
    }

    public void Reset()
    {
        _fits = null;
        DisposeUncovered();
    }

    public void Apply(WindowView window, long target)
    {
        var tracker = _context.Tracker;
        _fits ??= tracker.Covered.Select(m => _context.Extrapolator.Fit(m.Name, tracker.Snapshots(m.Name))).ToList();
        long delta = target - window.Last;
        var corrections = new List<MatrixJump>(_fits.Count);
        for (int i = 0; i < _fits.Count; i++)
        {
            var xHat = _context.Extrapolator.Predict(_fits[i], target);
            corrections.Add(new MatrixJump(tracker.Covered[i], Rank1Jump.Coefficients(_fits[i], xHat, _form), _fits[i].LastV));
        }
        List<LinearJump> linear = _uncoveredStart.Count == 0 || window.Last <= _firstStep ? [] :
            _uncoveredStart.Select(u => new LinearJump(u.Name, u.Parameter, u.Start, (double)delta / (window.Last - _firstStep))).ToList();
        WeightJump.Check(corrections, linear);
        WeightJump.Write(corrections, tracker.Base, _form, linear);
    }

    public void Save(MethodState state)
    {
        state.Scalars["firstStep"] = _firstStep;
        foreach (var (name, _, start) in _uncoveredStart) state.Tensors[$"uncoveredStart/{name}"] = start;
    }

    public void Load(MethodState state)
    {
        var loaded = new List<(string, Parameter, Tensor)>();
        try
        {
            foreach (var (name, parameter) in _context.Uncovered())
                if (state.Tensors.TryGetValue($"uncoveredStart/{name}", out var saved))
                    loaded.Add((name, parameter, MethodState.Copy(Name, $"uncoveredStart/{name}", saved, parameter.shape, parameter.dtype, parameter.device)));
        }
        catch
        {
            foreach (var (_, _, t) in loaded) t.Dispose();
            throw;
        }
        _fits = null;
        DisposeUncovered();
        _uncoveredStart.AddRange(loaded);
        _firstStep = (long)state.Scalar(Name, "firstStep");
    }

    private void DisposeUncovered()
    {
        foreach (var u in _uncoveredStart) u.Start.Dispose();
        _uncoveredStart.Clear();
    }

    public void Dispose() => DisposeUncovered();
}
