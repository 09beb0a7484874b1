using AlphaRl.TorchSharp.State;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AlphaRl.TorchSharp.Jumps;

/// <summary>
/// The whole update's direction: W_e + j·L·(W_e − W0)/(e − start), where start is the step at which the session began
/// (W0's step). With a window from the session's start this is W_e + j (W_e − W0), ExPO's form with j chosen by the
/// guard. Memory: none for the covered matrices (it reads the tracker's W0); with <see cref="IncludeUncovered"/>, one
/// copy of the uncovered trainable tensors taken when the session starts. Use it where the run so far is one straight
/// move from W0; it is the cheapest method.
/// </summary>
public sealed class DirectionJumpOptions : JumpMethodOptions
{
    /// <inheritdoc />
    public override string Name => "direction";

    /// <summary>False (default): the covered matrices only. True: every trainable tensor (embeddings, norms, head, biases too).</summary>
    public bool IncludeUncovered { get; set; }

    internal override IJumpMethod Create(JumpMethodContext context) => new DirectionJump(context, IncludeUncovered);
}

/// <summary>The whole-update direction jump (<see cref="DirectionJumpOptions"/>).</summary>
internal sealed class DirectionJump : IJumpMethod
{
    private readonly JumpMethodContext _context;
    private readonly List<(string Name, Parameter Parameter, Tensor Start)> _uncovered = new();

    public DirectionJump(JumpMethodContext context, bool includeUncovered)
    {
        _context = context;
        if (includeUncovered)
            foreach (var (name, p) in context.Uncovered())
                _uncovered.Add((name, p, WeightBackup.Copy(p, context.CopiesOnCpu)));
    }

    public string Name => "direction";

    public long MemoryBytes => _uncovered.Sum(u => u.Start.NumberOfElements * u.Start.ElementSize);

    public IReadOnlyList<Parameter> Touches =>
        _context.Tracker.Covered.Select(m => m.Parameter).Concat(_uncovered.Select(u => u.Parameter)).ToList();

    public void Observe(WindowView window) { }

    public void Reset() { }

    public void Apply(WindowView window, long target)
    {
        long delta = target - window.Last, travelled = window.Last - window.SessionStart;
        if (travelled <= 0)
            throw new InvalidOperationException($"Jump method 'direction' needs the window to end after the session's start (step {window.SessionStart}); it ends at step {window.Last}. Nothing was written.");
        double factor = (double)delta / travelled;
        var tracker = _context.Tracker;
        using var noGrad = no_grad();
        foreach (var m in tracker.Covered)
        {
            m.EnsureUnchanged();
            Write(m.Name, m.Parameter, tracker.Base[m.Name], factor);
        }
        foreach (var (name, p, start) in _uncovered)
        {
            if (!p.shape.SequenceEqual(start.shape))
                throw new AlphaRLException($"Parameter '{name}' changed shape since the session started; the direction jump cannot use it.");
            Write(name, p, start, factor);
        }
    }

    private static void Write(string name, Parameter p, Tensor w0, double factor)
    {
        using var scope = NewDisposeScope();
        var current = p.detach().to(ScalarType.Float32);
        CandidateWriter.Write(name, p, current + (current - w0.to(current.device).to(ScalarType.Float32)) * factor);
    }

    public void Save(MethodState state)
    {
        foreach (var (name, _, start) in _uncovered) state.Tensors[$"start/{name}"] = start;
    }

    public void Load(MethodState state)
    {
        // Every saved tensor is checked before any is copied in.
        foreach (var (name, _, start) in _uncovered)
            MethodState.EnsureFits(Name, $"start/{name}", state.Tensor(Name, $"start/{name}"), start.shape, start.dtype);
        using var noGrad = no_grad();
        foreach (var (name, _, start) in _uncovered) start.copy_(state.Tensors[$"start/{name}"]);
    }

    public void Dispose()
    {
        foreach (var u in _uncovered) u.Start.Dispose();
        _uncovered.Clear();
    }
}
