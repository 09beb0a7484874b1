using AlphaRl.Extrapolation;
using AlphaRl.TorchSharp.Tracking;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AlphaRl.TorchSharp.Jumps;

/// <summary>The rank-1 correction of one matrix: W_pred = reference + Coefficients · Vᵀ.</summary>
/// <param name="Matrix">The covered matrix.</param>
/// <param name="Coefficients">Row coefficients c (length = rows).</param>
/// <param name="V">Direction v (length = columns).</param>
public sealed record MatrixJump(CoveredMatrix Matrix, float[] Coefficients, float[] V);

/// <summary>
/// A plain linear extrapolation of one tensor AlphaRL does not decompose: W_T = W_e + Factor · (W_e − Start).
/// </summary>
/// <param name="Name">The parameter's name.</param>
/// <param name="Parameter">The live parameter (W_e).</param>
/// <param name="Start">Its value at the window's first snapshot (W_s).</param>
/// <param name="Factor">(T − e) / (e − s).</param>
public sealed record LinearJump(string Name, Parameter Parameter, Tensor Start, double Factor);

/// <summary>
/// A jump applied in place to live parameters, with an exact copy of what was there before: <see cref="Restore"/>
/// brings the previous weights back bit-for-bit; <see cref="Dispose"/> keeps the new weights and frees the copy.
/// </summary>
public sealed class WeightJump : IDisposable
{
    private readonly List<(Parameter Parameter, Tensor Before)> _backup = new();
    private bool _disposed;

    private WeightJump() { }

    /// <summary>Bytes held by the copy of the previous weights.</summary>
    public long BackupBytes => _backup.Sum(b => b.Before.NumberOfElements * b.Before.ElementSize);

    /// <summary>
    /// Applies the corrections in place under <c>no_grad</c>, computed in float32 and written back in each parameter's dtype.
    /// Everything is checked before anything is written; if a result is not finite, all parameters are restored and
    /// the error names the matrix.
    /// </summary>
    /// <param name="jumps">One correction per matrix.</param>
    /// <param name="baseWeights">W0, needed when <paramref name="form"/> starts from the base weights.</param>
    /// <param name="form">Which reference the correction is added to.</param>
    /// <param name="backupOnCpu">Keep the copy of the previous weights in host memory.</param>
    /// <param name="linear">Tensors that are not decomposed but extrapolated linearly; none when null.</param>
    public static WeightJump Apply(IReadOnlyList<MatrixJump> jumps, BaseWeights baseWeights, JumpForm form, bool backupOnCpu = false,
        IReadOnlyList<LinearJump>? linear = null)
    {
        ArgumentNullException.ThrowIfNull(jumps);
        ArgumentNullException.ThrowIfNull(baseWeights);
        linear ??= [];
        Check(jumps, linear);
        var jump = new WeightJump();
        using var noGrad = no_grad();
        foreach (var p in jumps.Select(j => j.Matrix.Parameter).Concat(linear.Select(l => l.Parameter)))
            jump._backup.Add((p, WeightBackup.Copy(p, backupOnCpu)));
        try
        {
            Write(jumps, baseWeights, form, linear);
        }
        catch
        {
            jump.Restore();
            jump.Dispose();
            throw;
        }
        return jump;
    }

    /// <summary>Throws, before anything is written, when a correction does not fit its matrix or holds NaN or infinity.</summary>
    internal static void Check(IReadOnlyList<MatrixJump> jumps, IReadOnlyList<LinearJump> linear)
    {
        foreach (var l in linear)
        {
            if (l.Parameter.IsInvalid || !l.Parameter.shape.SequenceEqual(l.Start.shape))
                throw new AlphaRLException($"Parameter '{l.Name}' changed since the window started; nothing was written.");
            if (!double.IsFinite(l.Factor))
                throw new AlphaRLException($"Extrapolation factor of '{l.Name}' is not finite; nothing was written.");
        }
        foreach (var j in jumps)
        {
            j.Matrix.EnsureUnchanged();
            if (j.Coefficients.Length != j.Matrix.Rows || j.V.Length != j.Matrix.Cols)
                throw new AlphaRLException($"Jump of '{j.Matrix.Name}' has a {j.Coefficients.Length}×{j.V.Length} correction for a {j.Matrix.Rows}×{j.Matrix.Cols} matrix; nothing was written.");
            if (!AllFinite(j.Coefficients) || !AllFinite(j.V))
                throw new AlphaRLException($"Jump of '{j.Matrix.Name}' holds NaN or infinity; nothing was written.");
        }
    }

    /// <summary>
    /// Writes the corrections in place (float32 arithmetic, stored in each parameter's dtype) with no copy of what was
    /// there: the caller restores on failure. Throws naming the tensor whose result is not finite.
    /// </summary>
    internal static void Write(IReadOnlyList<MatrixJump> jumps, BaseWeights baseWeights, JumpForm form, IReadOnlyList<LinearJump> linear)
    {
        using var noGrad = no_grad();
        foreach (var j in jumps)
        {
            using var scope = NewDisposeScope();
            var p = j.Matrix.Parameter;
            var reference = Rank1Jump.StartsFromBase(form) ? baseWeights[j.Matrix.Name].to(p.device) : p.detach();
            var c = tensor(j.Coefficients, device: p.device);
            var v = tensor(j.V, device: p.device);
            CandidateWriter.Write(j.Matrix.Name, p, reference.to(ScalarType.Float32) + outer(c, v));
        }
        foreach (var l in linear)
        {
            using var scope = NewDisposeScope();
            var p = l.Parameter;
            var current = p.detach().to(ScalarType.Float32);
            CandidateWriter.Write(l.Name, p, current + (current - l.Start.to(p.device).to(ScalarType.Float32)) * l.Factor);
        }
    }

    /// <summary>Puts back, bit-for-bit, the weights that were there before the jump.</summary>
    public void Restore()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var noGrad = no_grad();
        foreach (var (parameter, before) in _backup)
            parameter.copy_(before);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var (_, before) in _backup) before.Dispose();
        _backup.Clear();
        _disposed = true;
    }

    private static bool AllFinite(float[] values)
    {
        foreach (float x in values)
            if (!float.IsFinite(x)) return false;
        return true;
    }
}
