using TorchSharp;
using static TorchSharp.torch;

namespace AlphaRl.TorchSharp.Tracking;

/// <summary>
/// Random sketches of the covered matrices' updates, enough to estimate inner products between the window's updates
/// without storing them: per matrix a fixed Gaussian Ω (n × k, seeded, float32, on the parameter's device) and
/// C0 = W0·Ω; at each snapshot P_t = W_t·Ω − C0 (m × k floats, kept in host memory). Then
/// ⟨D_a, D_b⟩ ≈ Σ_matrices ⟨P_a, P_b⟩ / k, unbiased, which is all <see cref="AlphaRl.Extrapolation.PathDiagnostics"/> needs.
/// </summary>
internal sealed class PathSketch : IDisposable
{
    private readonly IReadOnlyList<CoveredMatrix> _matrices;
    private readonly int _k;
    private readonly List<(Tensor Omega, Tensor C0)> _fixed = new();
    private readonly List<(long Step, float[][] P)> _snapshots = new();

    public PathSketch(IReadOnlyList<CoveredMatrix> matrices, int k = 8, int seed = 20251001)
    {
        _matrices = matrices;
        _k = k;
        var random = new Random(seed);
        using var noGrad = no_grad();
        foreach (var m in matrices)
        {
            using var scope = NewDisposeScope();
            var values = new float[m.Cols * k];
            for (int i = 0; i < values.Length; i++) values[i] = Gaussian(random);
            var omega = tensor(values, [m.Cols, k], device: m.Parameter.device);
            var c0 = m.Parameter.detach().to(ScalarType.Float32).matmul(omega);
            _fixed.Add((omega.DetachFromDisposeScope(), c0.DetachFromDisposeScope()));
        }
    }

    /// <summary>Steps of the sketched snapshots, oldest first.</summary>
    public IReadOnlyList<long> Steps => _snapshots.Select(s => s.Step).ToList();

    /// <summary>Bytes held: Ω and C0 on the device, the sketches in host memory.</summary>
    public long Bytes => _fixed.Sum(f => (f.Omega.NumberOfElements + f.C0.NumberOfElements) * sizeof(float))
        + _snapshots.Sum(s => s.P.Sum(p => (long)p.Length * sizeof(float)));

    /// <summary>Sketches every covered matrix's update at <paramref name="step"/>.</summary>
    public void Observe(long step)
    {
        var p = new float[_matrices.Count][];
        using var noGrad = no_grad();
        for (int i = 0; i < _matrices.Count; i++)
        {
            using var scope = NewDisposeScope();
            var (omega, c0) = _fixed[i];
            var w = _matrices[i].Parameter.detach().to(ScalarType.Float32);
            p[i] = (w.matmul(omega.to(w.device)) - c0.to(w.device)).cpu().contiguous().data<float>().ToArray();
        }
        _snapshots.Add((step, p));
    }

    /// <summary>Drops all but the newest <paramref name="count"/> sketches, as the tracker's sliding window does.</summary>
    public void KeepNewest(int count)
    {
        if (_snapshots.Count > count) _snapshots.RemoveRange(0, _snapshots.Count - count);
    }

    /// <summary>Forgets the window's sketches (Ω and C0 stay).</summary>
    public void Clear() => _snapshots.Clear();

    /// <summary>The estimated Gram matrix ⟨D_a, D_b⟩ of the window's updates, row-major, pooled over matrices.</summary>
    public double[] Gram()
    {
        int n = _snapshots.Count;
        var g = new double[n * n];
        for (int a = 0; a < n; a++)
            for (int b = 0; b <= a; b++)
            {
                double sum = 0;
                for (int i = 0; i < _matrices.Count; i++)
                {
                    var pa = _snapshots[a].P[i];
                    var pb = _snapshots[b].P[i];
                    for (int e = 0; e < pa.Length; e++) sum += (double)pa[e] * pb[e];
                }
                g[a * n + b] = g[b * n + a] = sum / _k;
            }
        return g;
    }

    /// <summary>C0 = W0·Ω of every covered matrix, in order (owned by the sketch).</summary>
    public IReadOnlyList<Tensor> Bases => _fixed.Select(f => f.C0).ToList();

    /// <summary>The window's sketches, oldest first (owned by the sketch).</summary>
    public IReadOnlyList<(long Step, float[][] P)> Sketches => _snapshots;

    /// <summary>Puts back the saved C0 of every matrix and the saved sketches (a resumed session's).</summary>
    public void Restore(IReadOnlyList<Tensor> bases, IEnumerable<(long Step, float[][] P)> sketches)
    {
        if (bases.Count != _fixed.Count)
            throw new AlphaRLException($"The saved path sketch covers {bases.Count} matrices; the session covers {_fixed.Count}.");
        using var noGrad = no_grad();
        for (int i = 0; i < bases.Count; i++)
        {
            var c0 = _fixed[i].C0;
            if (!c0.shape.SequenceEqual(bases[i].shape))
                throw new AlphaRLException($"The saved path sketch of '{_matrices[i].Name}' is [{string.Join(", ", bases[i].shape)}]; the session's is [{string.Join(", ", c0.shape)}].");
            using var scope = NewDisposeScope();
            c0.copy_(bases[i].to(ScalarType.Float32).to(c0.device));
        }
        _snapshots.Clear();
        _snapshots.AddRange(sketches);
    }

    public void Dispose()
    {
        foreach (var (omega, c0) in _fixed)
        {
            omega.Dispose();
            c0.Dispose();
        }
        _fixed.Clear();
        _snapshots.Clear();
    }

    private static float Gaussian(Random random)
    {
        double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }
}
