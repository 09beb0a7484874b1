using AlphaRl.Tracking;

namespace AlphaRl.Extrapolation;

/// <summary>Fits the trajectory of x_t = s1 u1 of one matrix over a window and predicts it at a target step.</summary>
public interface IExtrapolator
{
    /// <summary>Short name used in logs and reports, e.g. "step-line".</summary>
    string Name { get; }

    /// <summary>Fits one matrix's trajectory and judges it out of sample.</summary>
    /// <param name="matrix">Name of the matrix (used in messages).</param>
    /// <param name="window">Its sign-aligned snapshots, oldest first.</param>
    /// <exception cref="AlphaRLException">Too few snapshots, inconsistent shapes or non-finite values.</exception>
    TrajectoryFit Fit(string matrix, IReadOnlyList<Rank1Snapshot> window);

    /// <summary>Predicts x at <paramref name="targetStep"/>.</summary>
    /// <exception cref="AlphaRLException">The target lies before the end of the window, or the prediction is not finite.</exception>
    float[] Predict(TrajectoryFit fit, long targetStep);
}
