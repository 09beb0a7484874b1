using System.Buffers;
using System.Runtime.InteropServices;
using AlphaRl.Linalg;
using TorchSharp;
using static TorchSharp.torch;

namespace AlphaRl.TorchSharp.Linalg;

/// <summary>
/// Top singular triplet of a 2-D tensor, or of the update W_t − W0 of two tensors without forming it
/// (<see cref="ComputeOfDifference"/>, what the tracker calls), in float32 whatever the input dtype.
/// On the CPU it reads the tensors' memory in place with the single-pass kernels of <see cref="TopSingular"/>
/// (one read of W_t and W0 per pass, bf16 widened in the kernel); on other devices it runs TorchSharp ops on the
/// tensors' own device with no host synchronisation inside the loop (two products with W_t and two with W0 per
/// iteration, one sync at the end from a warm start).
/// </summary>
public static class TorchTopSingular
{
    /// <summary>Computes (s1, u1, v1) of <paramref name="matrix"/>; the vectors come back as host arrays (O(m + n)).</summary>
    /// <param name="matrix">A 2-D tensor on any device and of any floating dtype.</param>
    /// <param name="warmStartV">Optional start vector for v (length = columns), e.g. the previous snapshot's v.</param>
    /// <param name="options">Tolerance and iteration cap; <see cref="PowerIterationOptions.Default"/> when null.</param>
    /// <exception cref="ArgumentException">The tensor is not 2-D or the warm start has the wrong length.</exception>
    /// <exception cref="AlphaRLException">The matrix holds NaN or infinity, or its largest singular value exceeds the
    /// float32 range. Finite values of any magnitude are handled (see <see cref="TopSingular.Compute"/>).</exception>
    public static SingularTriplet Compute(Tensor matrix, ReadOnlySpan<float> warmStartV = default, PowerIterationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        options ??= PowerIterationOptions.Default;
        if (matrix.dim() != 2)
            throw new ArgumentException($"Expected a 2-D tensor; got shape [{string.Join(", ", matrix.shape)}].", nameof(matrix));
        int rows = (int)matrix.shape[0], cols = (int)matrix.shape[1];
        if (!warmStartV.IsEmpty && warmStartV.Length != cols)
            throw new ArgumentException($"Warm-start vector has length {warmStartV.Length}; the matrix has {cols} columns.", nameof(warmStartV));

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        // The span kernel addresses at most 2 GB of float32 (a span's length is an int); larger goes through torch ops.
        bool spanKernel = matrix.device_type == DeviceType.CPU && matrix.NumberOfElements <= int.MaxValue / sizeof(float);
        if (spanKernel && matrix.dtype == ScalarType.BFloat16)
            return ComputeOnBFloat16(matrix.detach().contiguous(), rows, cols, warmStartV, options);
        var a = matrix.dtype == ScalarType.Float32 ? matrix.detach() : matrix.detach().to(ScalarType.Float32);
        if (spanKernel)
        {
            // Tensor.bytes is a view of the CPU storage, not a copy: the span kernel reads dW where it lies.
            var contiguous = a.contiguous();
            return TopSingular.Compute(MemoryMarshal.Cast<byte, float>(contiguous.bytes), rows, cols, warmStartV, options);
        }
        return ComputeWithTorchOps(a, warmStartV, options);
    }

    /// <summary>
    /// bf16 on the CPU: widening bf16 to float32 is a 16-bit shift, done here into a pooled buffer at memory speed
    /// (LibTorch's CPU conversion took longer than the whole triplet), then the span kernel.
    /// </summary>
    private static SingularTriplet ComputeOnBFloat16(Tensor contiguous, int rows, int cols, ReadOnlySpan<float> warmStartV, PowerIterationOptions options)
    {
        var bits = MemoryMarshal.Cast<byte, ushort>(contiguous.bytes);
        var buffer = ArrayPool<float>.Shared.Rent(bits.Length);
        try
        {
            var values = buffer.AsSpan(0, bits.Length);
            WidenBFloat16(bits, values);
            return TopSingular.Compute(values, rows, cols, warmStartV, options);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    /// <summary>bf16 bit patterns to float32: the bf16 bits are the high half of the float32.</summary>
    internal static void WidenBFloat16(ReadOnlySpan<ushort> bits, Span<float> values) => TopSingular.WidenBFloat16(bits, values);

    /// <summary>
    /// Computes (s1, u1, v1) of the update <paramref name="current"/> − <paramref name="initial"/> without forming it,
    /// with ‖W_t − W0‖_F in <see cref="SingularTriplet.MatrixNorm"/>. On the CPU (float32 or bfloat16, same dtype) the
    /// span kernel reads both tensors' memory in place, once per pass; on other devices TorchSharp ops on the device.
    /// </summary>
    /// <param name="current">W_t, a 2-D tensor.</param>
    /// <param name="initial">W0, same shape; moved to W_t's device when it lives elsewhere.</param>
    /// <param name="warmStartV">Optional start vector for v (length = columns), e.g. the previous snapshot's v.</param>
    /// <param name="options">Tolerance and pass budget; <see cref="PowerIterationOptions.Default"/> when null.</param>
    /// <exception cref="ArgumentException">The tensors are not 2-D of the same shape, or the warm start has the wrong length.</exception>
    /// <exception cref="AlphaRLException">W_t or W0 holds NaN or infinity, or s1 exceeds the float32 range.</exception>
    public static SingularTriplet ComputeOfDifference(Tensor current, Tensor initial, ReadOnlySpan<float> warmStartV = default, PowerIterationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(initial);
        options ??= PowerIterationOptions.Default;
        if (current.dim() != 2 || initial.dim() != 2 || current.shape[0] != initial.shape[0] || current.shape[1] != initial.shape[1])
            throw new ArgumentException($"Expected two 2-D tensors of the same shape; got [{string.Join(", ", current.shape)}] and [{string.Join(", ", initial.shape)}].", nameof(initial));
        int rows = (int)current.shape[0], cols = (int)current.shape[1];
        if (!warmStartV.IsEmpty && warmStartV.Length != cols)
            throw new ArgumentException($"Warm-start vector has length {warmStartV.Length}; the matrix has {cols} columns.", nameof(warmStartV));

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var w0 = initial.device == current.device ? initial.detach() : initial.detach().to(current.device);
        bool spanKernel = current.device_type == DeviceType.CPU && current.NumberOfElements <= int.MaxValue / sizeof(float);
        if (spanKernel && current.dtype == ScalarType.BFloat16 && w0.dtype == ScalarType.BFloat16)
        {
            Tensor a = current.detach().contiguous(), b = w0.contiguous();
            return TopSingular.ComputeOfDifferenceBFloat16(MemoryMarshal.Cast<byte, ushort>(a.bytes), MemoryMarshal.Cast<byte, ushort>(b.bytes),
                rows, cols, warmStartV, options);
        }
        Tensor wt = Float32(current.detach()), wb = Float32(w0);
        if (spanKernel)
        {
            Tensor a = wt.contiguous(), b = wb.contiguous();
            return TopSingular.ComputeOfDifference(MemoryMarshal.Cast<byte, float>(a.bytes), MemoryMarshal.Cast<byte, float>(b.bytes),
                rows, cols, warmStartV, options);
        }
        return ComputeOfDifferenceWithTorchOps(wt, wb, warmStartV, options);
    }

    /// <summary>Iterations between host syncs of the device path's convergence check from a cold start.</summary>
    private const int CheckEvery = 8;

    /// <summary>
    /// The device path of the difference (float32 W_t and W0 on one device): power iteration with
    /// u = W_t v − W0 v and w = uᵀW_t − uᵀW0, never forming W_t − W0, and no host synchronisation inside the loop:
    /// from a warm start a fixed <see cref="PowerIterationOptions.WarmPasses"/> iterations and one sync at the end;
    /// from a cold start a convergence check every <see cref="CheckEvery"/> iterations. ‖W_t − W0‖_F by
    /// <c>torch.dist</c>. Non-finite results take the scaled path of <see cref="ComputeWithTorchOps"/> on the formed update.
    /// </summary>
    internal static SingularTriplet ComputeOfDifferenceWithTorchOps(Tensor current, Tensor initial, ReadOnlySpan<float> warmStartV, PowerIterationOptions options)
    {
        int cols = (int)current.shape[1];
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var start = warmStartV.IsEmpty ? new float[cols] : warmStartV.ToArray();
        bool warm = !warmStartV.IsEmpty && IsUsable(start);
        if (!warm) TopSingular.FillRandomUnit(start, options.Seed);
        var v = tensor(start, device: current.device);
        v = v / v.norm();
        // A fixed budget from a warm start; otherwise (cold, or WarmPasses = 0) iterate to the tolerance.
        warm = warm && options.WarmPasses > 0;
        int budget = warm ? Math.Min(options.WarmPasses, options.MaxIterations) : options.MaxIterations;
        Tensor u = v, uNorm = v.norm(), wNorm = v.norm();
        int iterations = 0;
        bool converged = false;
        while (iterations < budget)
        {
            var previous = v;
            var uRaw = current.mv(v) - initial.mv(v);
            uNorm = uRaw.norm();
            u = uRaw / uNorm;
            var w = u.matmul(current) - u.matmul(initial);
            wNorm = w.norm();
            v = w / wNorm;
            iterations++;
            if (!warm && iterations % CheckEvery == 0 && (v - previous).norm().item<float>() < options.Tolerance)
            {
                converged = true;
                break;
            }
        }
        // σ = uᵀ(W_t − W0)v = ‖w‖ of the last iteration (‖W v‖ for the final v would need another pass).
        var stats = stack([wNorm, uNorm, dist(current, initial)]).cpu().data<float>().ToArray();
        if (!float.IsFinite(stats[0]) || !float.IsFinite(stats[1]) || !float.IsFinite(stats[2]) || stats[1] == 0f || stats[0] < 1e-15f)
        {
            var update = current - initial;
            var triplet = ComputeWithTorchOps(update, warmStartV, options);
            float norm = TopSingular.FrobeniusNorm(ToArray(update));
            // The rule of s1: a norm beyond the float32 range fails rather than being reported as +∞.
            if (!float.IsFinite(norm))
                throw new AlphaRLException($"The Frobenius norm of the {update.shape[0]}×{update.shape[1]} update exceeds the float32 range.");
            return triplet with { MatrixNorm = norm };
        }
        return new SingularTriplet(stats[0], ToArray(u), ToArray(v), iterations, converged) { MatrixNorm = stats[2] };
    }

    /// <summary>
    /// The device path for a group of matrices of one shape (e.g. the same projection across layers): the same
    /// iteration as <see cref="ComputeOfDifferenceWithTorchOps"/>, run on all of them together. The vectors are
    /// batched ([L, n] and [L, m]: one norm, one division and one convergence check per group, not per matrix) and the
    /// whole group has one host synchronisation at the end; the products W_t v − W0 v and uᵀW_t − uᵀW0 read each
    /// member where it lies (no [L, m, n] stack: copying W_t and W0 into stacks for <c>bmm</c> made the snapshot
    /// about 2x slower on the CPU, see docs/performance.md). bf16 members are widened to float32 first, as in the
    /// per-matrix path. The group iterates warm (<see cref="PowerIterationOptions.WarmPasses"/>) only when every warm
    /// start is usable; otherwise every member iterates to the tolerance, each from its warm start when usable and a
    /// seeded random vector when not.
    /// </summary>
    /// <param name="currents">W_t of each member: 2-D tensors of one shape on one device.</param>
    /// <param name="initials">W0 of each member, same shape (any device, any floating dtype).</param>
    /// <param name="warmStarts">The start vector of each member (length = columns), or null / empty for none.</param>
    /// <param name="options">Tolerance and pass budget.</param>
    /// <returns>One triplet per member, with <see cref="SingularTriplet.MatrixNorm"/>; null where an intermediate left the
    /// float32 range or held NaN or infinity (call <see cref="ComputeOfDifferenceWithTorchOps"/> on that member).</returns>
    internal static SingularTriplet?[] ComputeOfDifferenceBatchedWithTorchOps(IReadOnlyList<Tensor> currents, IReadOnlyList<Tensor> initials,
        IReadOnlyList<float[]?> warmStarts, PowerIterationOptions options)
    {
        int count = currents.Count;
        if (count == 0) return [];
        if (initials.Count != count || warmStarts.Count != count)
            throw new ArgumentException("Expected one W0 and one warm start per matrix.", nameof(initials));
        int rows = (int)currents[0].shape[0], cols = (int)currents[0].shape[1];
        var device = currents[0].device;
        for (int i = 0; i < count; i++)
            if (currents[i].dim() != 2 || initials[i].dim() != 2 || currents[i].shape[0] != rows || currents[i].shape[1] != cols
                || initials[i].shape[0] != rows || initials[i].shape[1] != cols
                || currents[i].device_type != device.type || currents[i].device_index != device.index)
                throw new ArgumentException($"Matrix {i} of the group is not [{rows}, {cols}] on {device}.", nameof(currents));

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var wt = currents.Select(c => Float32(c.detach())).ToArray();
        var w0 = initials.Select(b => Float32(b.device_type == device.type && b.device_index == device.index ? b.detach() : b.detach().to(device))).ToArray();

        var start = new float[count * cols];
        bool warm = options.WarmPasses > 0;
        for (int i = 0; i < count; i++)
        {
            var member = start.AsSpan(i * cols, cols);
            var given = warmStarts[i];
            if (given is { Length: > 0 } && given.Length != cols)
                throw new ArgumentException($"Warm-start vector {i} has length {given.Length}; the matrices have {cols} columns.", nameof(warmStarts));
            if (given is { Length: > 0 } && IsUsable(given)) given.CopyTo(member);
            else
            {
                warm = false;
                var random = new float[cols];
                TopSingular.FillRandomUnit(random, options.Seed);
                random.CopyTo(member);
            }
        }
        var v = tensor(start, [count, cols], device: device);
        v = v / v.norm(1, keepdim: true);
        int budget = warm ? Math.Min(options.WarmPasses, options.MaxIterations) : options.MaxIterations;
        Tensor u = v, uNorm = v.norm(1, keepdim: true), wNorm = uNorm;
        int iterations = 0;
        bool converged = false;
        while (iterations < budget)
        {
            var previous = v;
            var uRaw = stack(Enumerable.Range(0, count).Select(i => wt[i].mv(v[i]) - w0[i].mv(v[i])).ToArray());          // [L, m]
            uNorm = uRaw.norm(1, keepdim: true);
            u = uRaw / uNorm;
            var w = stack(Enumerable.Range(0, count).Select(i => u[i].matmul(wt[i]) - u[i].matmul(w0[i])).ToArray());     // [L, n]
            wNorm = w.norm(1, keepdim: true);
            v = w / wNorm;
            iterations++;
            if (!warm && iterations % CheckEvery == 0 && (v - previous).norm(1).max().item<float>() < options.Tolerance)
            {
                converged = true;
                break;
            }
        }
        // One host sync for the whole group: σ (‖w‖ of the last iteration), ‖u‖ and ‖W_t − W0‖_F of every member.
        var norms = stack(Enumerable.Range(0, count).Select(i => dist(wt[i], w0[i])).ToArray());
        var stats = stack([wNorm.reshape(count), uNorm.reshape(count), norms]).cpu().data<float>().ToArray();
        float[] us = u.reshape(count * rows).cpu().data<float>().ToArray(), vs = v.reshape(count * cols).cpu().data<float>().ToArray();
        var triplets = new SingularTriplet?[count];
        for (int i = 0; i < count; i++)
        {
            float sigma = stats[i], uSize = stats[count + i], norm = stats[2 * count + i];
            if (!float.IsFinite(sigma) || !float.IsFinite(uSize) || !float.IsFinite(norm) || uSize == 0f || sigma < 1e-15f)
                continue;
            triplets[i] = new SingularTriplet(sigma, us.AsSpan(i * rows, rows).ToArray(), vs.AsSpan(i * cols, cols).ToArray(), iterations, converged)
            { MatrixNorm = norm };
        }
        return triplets;
    }

    private static Tensor Float32(Tensor t) => t.dtype == ScalarType.Float32 ? t : t.to(ScalarType.Float32);

    /// <summary>The device path: power iteration with TorchSharp ops on a float32 matrix, one host sync per iteration.</summary>
    internal static SingularTriplet ComputeWithTorchOps(Tensor a, ReadOnlySpan<float> warmStartV, PowerIterationOptions options)
    {
        var triplet = IterateWithTorchOps(a, warmStartV, options);
        if (triplet is not null) return triplet;
        // Rare path: the matrix holds NaN or infinity (a data error), or its values are too large or too small for
        // float32 products; scale it by its largest magnitude and scale s1 back.
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        if (!a.isfinite().all().item<bool>())
            throw new AlphaRLException("The matrix holds NaN or infinity; its top singular triplet is undefined.");
        float maxAbs = a.abs().max().item<float>();
        var scaled = IterateWithTorchOps(a / maxAbs, warmStartV, options)
            ?? throw new AlphaRLException($"The top singular triplet of a {a.shape[0]}×{a.shape[1]} matrix could not be computed even after scaling it.");
        double exact = (double)scaled.Value * maxAbs;
        float value = exact <= float.MaxValue * (1 + 1e-6) ? (float)Math.Min(exact, float.MaxValue) : float.PositiveInfinity;
        if (!float.IsFinite(value))
            throw new AlphaRLException($"The largest singular value of a {a.shape[0]}×{a.shape[1]} matrix exceeds the float32 range.");
        return scaled with { Value = value };
    }

    /// <summary>The device iteration; null when an intermediate left the float range (see <see cref="ComputeWithTorchOps"/>).</summary>
    private static SingularTriplet? IterateWithTorchOps(Tensor a, ReadOnlySpan<float> warmStartV, PowerIterationOptions options)
    {
        int rows = (int)a.shape[0], cols = (int)a.shape[1];
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var start = warmStartV.IsEmpty ? new float[cols] : warmStartV.ToArray();
        if (warmStartV.IsEmpty || !IsUsable(start)) TopSingular.FillRandomUnit(start, options.Seed);
        var v = tensor(start, device: a.device);
        v = v / v.norm();

        Tensor u = v;
        float sigma = 0f;
        for (int iteration = 1; iteration <= options.MaxIterations; iteration++)
        {
            using var step = NewDisposeScope();
            var uRaw = a.mv(v);
            var uNorm = uRaw.norm();
            var uNext = uRaw / uNorm;
            var w = uNext.matmul(a);
            var wNorm = w.norm();
            w = w / wNorm;
            // ||u||, sigma and the change of v come back together: one host sync per iteration instead of three.
            var stats = stack([uNorm, wNorm, (w - v).norm(), uRaw.abs().max()]).cpu().data<float>().ToArray();
            float uNormValue = stats[0], change = stats[2];
            // Overflow, NaN or infinity, or a norm too small for float32 (underflowing, possibly to 0): the scaled path.
            if (!float.IsFinite(uNormValue) || !float.IsFinite(stats[1]) || (stats[3] > 0f && uNormValue < 1e-15f))
                return null;
            if (uNormValue == 0f)
            {
                var e = new float[rows];
                e[0] = 1f;
                return new SingularTriplet(0f, e, ToArray(v), iteration, Converged: true);
            }
            sigma = stats[1];
            step.MoveToOuter(uNext, w);
            u = uNext;
            v = w;
            if (change < options.Tolerance)
                return new SingularTriplet(sigma, ToArray(u), ToArray(v), iteration, Converged: true);
        }
        return new SingularTriplet(sigma, ToArray(u), ToArray(v), options.MaxIterations, Converged: false);
    }

    internal static float[] ToArray(Tensor t) => t.detach().cpu().to(ScalarType.Float32).data<float>().ToArray();

    private static bool IsUsable(float[] v)
    {
        double sum = 0;
        foreach (float x in v) sum += (double)x * x;
        return sum > 0 && double.IsFinite(sum);
    }
}
