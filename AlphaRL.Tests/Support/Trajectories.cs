using AlphaRl.Linalg;
using AlphaRl.Tracking;

namespace AlphaRl.Tests.Support;

/// <summary>Rank-1 trajectories x_t with a fixed right vector v, as a tracker would record them.</summary>
internal static class Trajectories
{
    public static long[] Steps(int count, int interval = 5) => Enumerable.Range(1, count).Select(i => (long)(i * interval)).ToArray();

    /// <summary>The snapshot whose x is <paramref name="x"/> and whose right vector is <paramref name="v"/>.</summary>
    public static SingularTriplet Triplet(float[] x, float[] v)
    {
        double norm = Math.Sqrt(x.Sum(e => (double)e * e));
        return new SingularTriplet((float)norm, x.Select(e => (float)(e / norm)).ToArray(), (float[])v.Clone(), 1, true);
    }

    public static List<Rank1Snapshot> Record(IEnumerable<(long Step, float[] X)> points, float[] v)
    {
        var tracker = new SubspaceTracker();
        foreach (var (step, x) in points) tracker.Record("m", step, Triplet(x, v));
        return tracker.Snapshots("m").ToList();
    }

    public static float[] Line(float[] a, float[] b, double t) => a.Select((ai, i) => (float)(ai + b[i] * t)).ToArray();

    public static double RelativeError(float[] predicted, float[] actual)
    {
        double err = 0, norm = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            err += Math.Pow(predicted[i] - actual[i], 2);
            norm += (double)actual[i] * actual[i];
        }
        return Math.Sqrt(err / norm);
    }
}
