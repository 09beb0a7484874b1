using AlphaRl.Extrapolation;
using AlphaRl.Tracking;

namespace AlphaRl.TorchSharp;

/// <summary>
/// The step-line fit counted from the session's start: snapshot and target steps are shifted by the start before the
/// inner extrapolator sees them, so a session started at step 1000 computes exactly what one started at 0 does.
/// </summary>
internal sealed class ShiftedExtrapolator(IExtrapolator inner, Func<long> origin) : IExtrapolator
{
    public string Name => inner.Name;

    public TrajectoryFit Fit(string matrix, IReadOnlyList<Rank1Snapshot> window)
    {
        long o = origin();
        return inner.Fit(matrix, o == 0 ? window : window.Select(s => s with { Step = s.Step - o }).ToList());
    }

    public float[] Predict(TrajectoryFit fit, long targetStep) => inner.Predict(fit, targetStep - origin());
}
