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

    /// <summary>How the prediction becomes weights; when null, <see cref="AlphaRLOptions.JumpForm"/> (default Increment).</summary>
    public JumpForm? Form { get; set; }

    /// <summary>What happens to uncovered trainable tensors; when null, <see cref="AlphaRLOptions.Uncovered"/> (default Keep).</summary>
    public UncoveredTensors? Uncovered { get; set; }

    internal override IEnumerable<string> Validate(string prefix, AlphaRLOptions session)
    {
        if (Form is { } f && !Enum.IsDefined(f))
            yield return $"AlphaRLOptions.{prefix}.Form = {f} is invalid: must be Increment, AddToLast or AddToBase.";
        if (Uncovered is { } u && !Enum.IsDefined(u))
            yield return $"AlphaRLOptions.{prefix}.Uncovered = {u} is invalid: must be Keep or Extrapolate.";
    }

    internal override IJumpMethod Create(JumpMethodContext context) =>
        new Rank1LineJump(context, Form ?? context.Options.JumpForm, Uncovered ?? context.Options.Uncovered);
}

/// <summary>The rank-1 line jump (<see cref="Rank1LineJumpOptions"/>).</summary>
internal sealed class Rank1LineJump : JumpMethodBase
{
    private readonly JumpMethodContext _context;
    private readonly JumpForm _form;
    private readonly UncoveredTensors _uncovered;
    private readonly List<(string Name, Parameter Parameter, Tensor Start)> _uncoveredStart = new();
    private long _firstStep;
    private List<TrajectoryFit>? _fits;

    public Rank1LineJump(JumpMethodContext context, JumpForm form, UncoveredTensors uncovered) : base(0)
    {
        _context = context;
        _form = form;
        _uncovered = uncovered;
    }

    public override string Name => "rank1";

    public override long MemoryBytes => _uncoveredStart.Sum(u => u.Start.NumberOfElements * u.Start.ElementSize);

    public override IReadOnlyList<Parameter> Touches =>
        _context.Tracker.Covered.Select(m => m.Parameter).Concat(_uncoveredStart.Select(u => u.Parameter)).ToList();

    protected override void OnObserve(long step)
    {
        _fits = null;
        if (Observed > 0 || _uncovered != UncoveredTensors.Extrapolate) return;
        // W_s of the uncovered tensors at the window's first snapshot, for their plain linear extrapolation.
        DisposeUncovered();
        foreach (var (name, parameter) in _context.Uncovered())
            _uncoveredStart.Add((name, parameter, WeightBackup.Copy(parameter, onCpu: false)));
        _firstStep = step;
    }

    protected override void OnReset()
    {
        _fits = null;
        DisposeUncovered();
    }

    protected override void OnApply(long delta)
    {
        var tracker = _context.Tracker;
        _fits ??= tracker.Covered.Select(m => _context.Extrapolator.Fit(m.Name, tracker.Snapshots(m.Name))).ToList();
        long target = LastStep + delta;
        var corrections = new List<MatrixJump>(_fits.Count);
        for (int i = 0; i < _fits.Count; i++)
        {
            var xHat = _context.Extrapolator.Predict(_fits[i], target);
            corrections.Add(new MatrixJump(tracker.Covered[i], Rank1Jump.Coefficients(_fits[i], xHat, _form), _fits[i].LastV));
        }
        List<LinearJump> linear = _uncoveredStart.Count == 0 || LastStep <= _firstStep ? [] :
            _uncoveredStart.Select(u => new LinearJump(u.Name, u.Parameter, u.Start, (double)delta / (LastStep - _firstStep))).ToList();
        WeightJump.Check(corrections, linear);
        WeightJump.Write(corrections, tracker.Base, _form, linear);
    }

    protected override void OnSave(MethodState state)
    {
        state.Scalars["firstStep"] = _firstStep;
        foreach (var (name, _, start) in _uncoveredStart) state.Tensors[$"uncoveredStart/{name}"] = start;
    }

    protected override void OnLoad(MethodState state)
    {
        _fits = null;
        DisposeUncovered();
        _firstStep = (long)state.Scalar(Name, "firstStep");
        foreach (var (name, parameter) in _context.Uncovered())
            if (state.Tensors.TryGetValue($"uncoveredStart/{name}", out var saved))
                _uncoveredStart.Add((name, parameter, Restored($"uncoveredStart/{name}", saved, parameter.shape, parameter.dtype, parameter.device)));
    }

    private void DisposeUncovered()
    {
        foreach (var u in _uncoveredStart) u.Start.Dispose();
        _uncoveredStart.Clear();
    }

    public override void Dispose() => DisposeUncovered();
}
