using System.Numerics;
using System.Runtime.InteropServices;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AlphaRl.Linalg;

/// <summary>
/// Top singular triplet of a dense row-major float matrix, or of the update W_t − W0 read straight from W_t and W0
/// (fp32, or bf16 bit patterns widened in the kernel), by a locally optimal (LOBPCG-style) power iteration on AᵀA,
/// in pure .NET (SIMD through <see cref="TensorPrimitives"/>). Each pass reads the matrix (or W_t and W0) once
/// (A x and AᵀA x together, and the Frobenius norm in the first pass). From a warm start, the previous snapshot's V,
/// it spends a fixed budget of passes (<see cref="PowerIterationOptions.WarmPasses"/>): the tracker carries the
/// iteration across snapshots of a slowly moving matrix instead of converging from scratch. Also the CPU path of
/// the TorchSharp routine, which hands it the tensors' memory.
/// </summary>
/// <remarks>Hand-written because it is the product's core operation: no .NET library offers a warm-started
/// top-1 SVD on spans, let alone of a difference of two matrices without forming it, and a full SVD costs hundreds
/// of times more. Matrices of 512K values or more are read by two thread-pool workers at once
/// (<see cref="Parallel.Invoke(Action[])"/>) when the machine has two or more cores. The row kernels are compiled
/// fully optimized from their first call (<see cref="MethodImplOptions.AggressiveOptimization"/>): under tiered
/// compilation a short-lived process, such as the offline tool, would run its first passes in unoptimized code.</remarks>
public static class TopSingular
{
    /// <summary>Computes the top singular triplet of <paramref name="matrix"/> (row-major, rows × cols).</summary>
    /// <param name="matrix">The matrix, row-major, exactly rows·cols values.</param>
    /// <param name="rows">Number of rows (length of U).</param>
    /// <param name="cols">Number of columns (length of V).</param>
    /// <param name="warmStartV">Optional start vector for V (length cols), e.g. the previous snapshot's V.</param>
    /// <param name="options">Tolerance and iteration cap; <see cref="PowerIterationOptions.Default"/> when null.</param>
    /// <exception cref="ArgumentException">Shapes do not match.</exception>
    /// <exception cref="AlphaRLException">The matrix holds NaN or infinity (a data error), or its largest singular
    /// value exceeds the float32 range. Finite values of any magnitude are handled: when AᵀA would leave the float
    /// range the matrix is scaled by a power of two (a rare extra path, not taken for ordinary values).</exception>
    public static SingularTriplet Compute(ReadOnlySpan<float> matrix, int rows, int cols,
        ReadOnlySpan<float> warmStartV = default, PowerIterationOptions? options = null)
    {
        options ??= PowerIterationOptions.Default;
        if (rows <= 0 || cols <= 0)
            throw new ArgumentException($"Matrix shape must be positive; got {rows}×{cols}.", nameof(rows));
        if (matrix.Length != (long)rows * cols)
            throw new ArgumentException($"Matrix holds {matrix.Length} values but its shape {rows}×{cols} needs {(long)rows * cols}.", nameof(matrix));
        if (!warmStartV.IsEmpty && warmStartV.Length != cols)
            throw new ArgumentException($"Warm-start vector has length {warmStartV.Length}; the matrix has {cols} columns.", nameof(warmStartV));

        return IterateDense(matrix, rows, cols, warmStartV, options) ?? ComputeScaled(matrix, rows, cols, warmStartV, options);
    }

    /// <summary>
    /// The top singular triplet of the update W_t − W0 read straight from the two matrices (fp32, row-major), without
    /// materialising it: each iteration reads W_t and W0 once, a few rows at a time into an L1-sized buffer. The
    /// triplet's <see cref="SingularTriplet.MatrixNorm"/> is ‖W_t − W0‖_F from the same first read.
    /// </summary>
    /// <param name="current">W_t, row-major, rows·cols values.</param>
    /// <param name="initial">W0, row-major, rows·cols values.</param>
    /// <param name="rows">Number of rows (length of U).</param>
    /// <param name="cols">Number of columns (length of V).</param>
    /// <param name="warmStartV">Optional start vector for V (length cols), e.g. the previous snapshot's V.</param>
    /// <param name="options">Tolerance and pass budget; <see cref="PowerIterationOptions.Default"/> when null.</param>
    /// <exception cref="ArgumentException">Shapes do not match.</exception>
    /// <exception cref="AlphaRLException">W_t or W0 holds NaN or infinity, or s1 exceeds the float32 range.</exception>
    public static unsafe SingularTriplet ComputeOfDifference(ReadOnlySpan<float> current, ReadOnlySpan<float> initial, int rows, int cols,
        ReadOnlySpan<float> warmStartV = default, PowerIterationOptions? options = null)
    {
        options ??= PowerIterationOptions.Default;
        CheckDifferenceShapes(current.Length, initial.Length, rows, cols, warmStartV.Length);
        SingularTriplet? t;
        fixed (float* pc = current, pb = initial)
            t = Iterate(new GramSource(GramSource.Kind.Difference, (nint)pc, (nint)pb, rows, cols), warmStartV, options);
        return t ?? ComputeOfDifferenceScaled(current, initial, rows, cols, warmStartV, options);
    }

    /// <summary>
    /// <see cref="ComputeOfDifference(ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, PowerIterationOptions?)"/>
    /// for bfloat16 weights given as their bit patterns: the kernel widens W_t and W0 to float32 as it reads them
    /// (a 16-bit shift), so a pass reads 2 bytes per value of each.
    /// </summary>
    /// <param name="currentBits">W_t as bfloat16 bit patterns, row-major.</param>
    /// <param name="initialBits">W0 as bfloat16 bit patterns, row-major.</param>
    /// <param name="rows">Number of rows.</param>
    /// <param name="cols">Number of columns.</param>
    /// <param name="warmStartV">Optional start vector for V (length cols).</param>
    /// <param name="options">Tolerance and pass budget; <see cref="PowerIterationOptions.Default"/> when null.</param>
    /// <exception cref="ArgumentException">Shapes do not match.</exception>
    /// <exception cref="AlphaRLException">W_t or W0 holds NaN or infinity, or s1 exceeds the float32 range.</exception>
    public static unsafe SingularTriplet ComputeOfDifferenceBFloat16(ReadOnlySpan<ushort> currentBits, ReadOnlySpan<ushort> initialBits, int rows, int cols,
        ReadOnlySpan<float> warmStartV = default, PowerIterationOptions? options = null)
    {
        options ??= PowerIterationOptions.Default;
        CheckDifferenceShapes(currentBits.Length, initialBits.Length, rows, cols, warmStartV.Length);
        SingularTriplet? t;
        fixed (ushort* pc = currentBits, pb = initialBits)
            t = Iterate(new GramSource(GramSource.Kind.BFloat16Difference, (nint)pc, (nint)pb, rows, cols), warmStartV, options);
        if (t is not null) return t;
        var current = new float[currentBits.Length];
        var initial = new float[initialBits.Length];
        WidenBFloat16(currentBits, current);
        WidenBFloat16(initialBits, initial);
        return ComputeOfDifferenceScaled(current, initial, rows, cols, warmStartV, options);
    }

    private static void CheckDifferenceShapes(int currentLength, int initialLength, int rows, int cols, int warmLength)
    {
        if (rows <= 0 || cols <= 0)
            throw new ArgumentException($"Matrix shape must be positive; got {rows}×{cols}.", nameof(rows));
        if (currentLength != (long)rows * cols || initialLength != (long)rows * cols)
            throw new ArgumentException($"W_t holds {currentLength} values and W0 {initialLength}, but the shape {rows}×{cols} needs {(long)rows * cols}.");
        if (warmLength != 0 && warmLength != cols)
            throw new ArgumentException($"Warm-start vector has length {warmLength}; the matrix has {cols} columns.", "warmStartV");
    }

    /// <summary>The rare path of the difference routines: W_t − W0 formed in double (it may overflow float32 even
    /// when both are finite), scaled by a power of two into float32, then the scaled dense iteration.</summary>
    private static SingularTriplet ComputeOfDifferenceScaled(ReadOnlySpan<float> current, ReadOnlySpan<float> initial, int rows, int cols,
        ReadOnlySpan<float> warmStartV, PowerIterationOptions options)
    {
        double maxAbs = 0;
        for (int i = 0; i < current.Length; i++)
        {
            if (!float.IsFinite(current[i]) || !float.IsFinite(initial[i]))
                throw new AlphaRLException("W_t or W0 holds NaN or infinity; the top singular triplet of the update is undefined.");
            maxAbs = Math.Max(maxAbs, Math.Abs((double)current[i] - initial[i]));
        }
        if (maxAbs == 0)
            return new SingularTriplet(0f, UnitBasis(rows), StartVector(cols, warmStartV, options), 1, Converged: true) { MatrixNorm = 0f };
        int exponent = Math.ILogB(maxAbs);
        var scaled = new float[current.Length];
        for (int i = 0; i < scaled.Length; i++) scaled[i] = (float)Math.ScaleB((double)current[i] - initial[i], -exponent);
        var t = IterateDense(scaled, rows, cols, warmStartV, options)
            ?? throw new AlphaRLException($"The top singular triplet of a {rows}×{cols} update could not be computed even after scaling it.");
        return t with { Value = ScaleBack(t.Value, exponent, rows, cols), MatrixNorm = ScaleNormBack(t.MatrixNorm, exponent, rows, cols) };
    }

    private static unsafe SingularTriplet? IterateDense(ReadOnlySpan<float> matrix, int rows, int cols, ReadOnlySpan<float> warmStartV, PowerIterationOptions options)
    {
        fixed (float* pm = matrix)
            return Iterate(new GramSource(GramSource.Kind.Dense, (nint)pm, 0, rows, cols), warmStartV, options);
    }

    /// <summary>s·2^exponent as float32; rounding within 1e-6 of float.MaxValue is clamped rather than reported.</summary>
    /// <exception cref="AlphaRLException">s1 exceeds the float32 range.</exception>
    private static float ScaleBack(float value, int exponent, int rows, int cols)
    {
        double exact = Math.ScaleB((double)value, exponent);
        if (exact > float.MaxValue * (1 + 1e-6))
            throw new AlphaRLException($"The largest singular value of a {rows}×{cols} matrix exceeds the float32 range (about {value:G3}·2^{exponent}).");
        return (float)Math.Min(exact, float.MaxValue);
    }

    /// <summary>A Frobenius norm scaled back, by the rule of s1 (<see cref="ScaleBack"/>): rounding within 1e-6 of
    /// float.MaxValue is clamped; beyond it the difference routines (<paramref name="required"/>: the tracker records
    /// ‖W_t − W0‖_F) fail rather than report +∞ next to a finite s1, and <see cref="Compute"/>, whose contract is the
    /// triplet alone, reports NaN (not available) instead of failing on a matrix whose s1 is representable.</summary>
    /// <exception cref="AlphaRLException">‖W_t − W0‖_F exceeds the float32 range.</exception>
    private static float ScaleNormBack(float norm, int exponent, int rows, int cols, bool required = true)
    {
        if (float.IsNaN(norm)) return norm;
        double exact = Math.ScaleB((double)norm, exponent);
        if (exact > float.MaxValue * (1 + 1e-6) && !required) return float.NaN;
        if (exact > float.MaxValue * (1 + 1e-6))
            throw new AlphaRLException($"The Frobenius norm of a {rows}×{cols} matrix exceeds the float32 range (about {norm:G3}·2^{exponent}).");
        return (float)Math.Min(exact, float.MaxValue);
    }

    /// <summary>Singular values below this (or overflow anywhere) send the matrix through <see cref="ComputeScaled"/>:
    /// AᵀA holds s1², which leaves the float range below about 1e-19 or above about 1.8e19.</summary>
    private const float SmallestSafeValue = 1e-15f;

    /// <summary>
    /// The rare path for a matrix whose values are too large or too small for AᵀA in float32 (or a matrix holding
    /// NaN or infinity): checks that it is finite, scales a copy by a power of two so that its largest magnitude is
    /// about 1, iterates on the copy and scales s1 back.
    /// </summary>
    /// <exception cref="AlphaRLException">The matrix holds NaN or infinity, or s1 exceeds the float range.</exception>
    private static SingularTriplet ComputeScaled(ReadOnlySpan<float> matrix, int rows, int cols, ReadOnlySpan<float> warmStartV, PowerIterationOptions options)
    {
        float maxAbs = MaxMagnitudeOrThrow(matrix);
        if (maxAbs == 0f)
            return new SingularTriplet(0f, UnitBasis(rows), StartVector(cols, warmStartV, options), 1, Converged: true) { MatrixNorm = 0f };
        int exponent = MathF.ILogB(maxAbs);
        var scaled = new float[matrix.Length];
        for (int i = 0; i < scaled.Length; i++) scaled[i] = MathF.ScaleB(matrix[i], -exponent);
        var t = IterateDense(scaled, rows, cols, warmStartV, options)
            ?? throw new AlphaRLException($"The top singular triplet of a {rows}×{cols} matrix could not be computed even after scaling it.");
        return t with { Value = ScaleBack(t.Value, exponent, rows, cols), MatrixNorm = ScaleNormBack(t.MatrixNorm, exponent, rows, cols, required: false) };
    }

    /// <summary>The largest magnitude of a matrix's values.</summary>
    /// <exception cref="AlphaRLException">The matrix holds NaN or infinity.</exception>
    internal static float MaxMagnitudeOrThrow(ReadOnlySpan<float> matrix)
    {
        float maxAbs = 0f;
        foreach (float x in matrix)
        {
            if (!float.IsFinite(x))
                throw new AlphaRLException("The matrix holds NaN or infinity; its top singular triplet is undefined.");
            maxAbs = Math.Max(maxAbs, Math.Abs(x));
        }
        return maxAbs;
    }

    /// <summary>The Frobenius norm of <paramref name="values"/> without overflow or underflow of the sum of squares
    /// (+∞ only when the norm itself exceeds the float range or a value is not finite).</summary>
    public static float FrobeniusNorm(ReadOnlySpan<float> values)
    {
        float norm = TensorPrimitives.Norm(values);
        if (float.IsFinite(norm) && norm > SmallestSafeValue) return norm;
        double maxAbs = 0;
        foreach (float x in values)
        {
            if (!float.IsFinite(x)) return float.IsNaN(x) ? float.NaN : float.PositiveInfinity;
            maxAbs = Math.Max(maxAbs, Math.Abs(x));
        }
        if (maxAbs == 0) return 0f;
        double sum = 0;
        foreach (float x in values) sum += (x / maxAbs) * (x / maxAbs);
        return (float)(maxAbs * Math.Sqrt(sum));
    }

    private static float[] StartVector(int cols, ReadOnlySpan<float> warmStartV, PowerIterationOptions options)
    {
        var v = new float[cols];
        float warmNorm = warmStartV.IsEmpty ? 0f : FrobeniusNorm(warmStartV);
        if (warmNorm == 0f || !float.IsFinite(warmNorm))
            FillRandomUnit(v, options.Seed);
        else
            for (int i = 0; i < cols; i++) v[i] = (float)(warmStartV[i] / (double)warmNorm);
        return v;
    }

    /// <summary>The iteration itself; null when an intermediate left the float range (overflow, NaN or infinity in
    /// the matrix, or a top singular value too small for AᵀA), so that the caller takes the scaled path.</summary>
    private static SingularTriplet? Iterate(GramSource matrix, ReadOnlySpan<float> warmStartV, PowerIterationOptions options)
    {
        int rows = matrix.Rows, cols = matrix.Cols;
        var v = StartVector(cols, warmStartV, options);
        // A warm start follows a slowly moving matrix: a fixed budget of reads instead of convergence from scratch.
        bool warm = !warmStartV.IsEmpty && IsUsable(warmStartV);
        int budget = warm && options.WarmPasses > 0 ? Math.Min(options.WarmPasses, options.MaxIterations) : options.MaxIterations;

        // Locally optimal block-free iteration (LOBPCG with one vector) on G = AᵀA: each step takes the best unit
        // vector in span{v, r, p} (r the residual G v − λ v, p the previous step) by Rayleigh–Ritz. It reads the
        // matrix once per step like power iteration (only G r is new; G v and G p follow by linearity) but converges
        // at a Chebyshev-like rate, so fewer reads reach the same tolerance on the change of V.
        var basis = new Subspace(rows, cols);
        double sumOfSquares = GramProductInto(matrix, v, basis.AX, basis.GX, basis, withNorm: true);
        float matrixNorm = (float)Math.Sqrt(sumOfSquares);
        if (!float.IsFinite(matrixNorm)) return null;
        v.CopyTo(basis.X, 0);
        // Iterations are counted as reads of the matrix (the first included), so the cap bounds the cost.
        int passes = 1;
        while (true)
        {
            float sigma = TensorPrimitives.Norm(basis.AX);
            if (!float.IsFinite(sigma) || !float.IsFinite(TensorPrimitives.Norm(basis.GX)))
                return null;
            if (sigma == 0f && TensorPrimitives.MaxMagnitude(basis.AX) == 0f)
                return new SingularTriplet(0f, UnitBasis(rows), basis.X, passes, Converged: true) { MatrixNorm = matrixNorm };
            if (sigma < SmallestSafeValue)
                return null;
            if (passes >= budget)
                return (passes == 1 ? basis.PowerStepResult(sigma) : basis.Result(sigma, passes, converged: false)) with { MatrixNorm = matrixNorm };
            if (passes % RefreshEvery == 0 && passes + 1 < budget)
            {
                // G v and A v are carried by linearity; re-reading them now and then keeps rounding from piling up.
                GramProductInto(matrix, basis.X, basis.AX, basis.GX, basis, withNorm: false);
                passes++;
                sigma = TensorPrimitives.Norm(basis.AX);
            }
            if (!basis.PrepareResidual(sigma))
                return basis.Result(sigma, passes, converged: true) with { MatrixNorm = matrixNorm };
            GramProductInto(matrix, basis.R, basis.AR, basis.GR, basis, withNorm: false);
            passes++;
            float change = basis.Step();
            if (!float.IsFinite(change))
                return null;
            if (change < options.Tolerance)
                return basis.Result(TensorPrimitives.Norm(basis.AX), passes, converged: true) with { MatrixNorm = matrixNorm };
        }
    }

    private static bool IsUsable(ReadOnlySpan<float> v)
    {
        float norm = FrobeniusNorm(v);
        return norm > 0f && float.IsFinite(norm);
    }

    private const int RefreshEvery = 16;

    /// <summary>Matrices at least this large (values) are read by two threads when the machine has two cores.</summary>
    private const long ParallelThreshold = 1 << 19;

    /// <summary>
    /// u = A v and w = Aᵀ A v = Σ_i u_i row_i in a single read of the row-major A: each row is dotted with v and,
    /// while it is still in L1, added into w. Half the memory traffic of A v followed by Aᵀ u. Large matrices are
    /// split into two row blocks read at once by two threads (the second block sums into a scratch vector).
    /// Returns Σ a² over A when <paramref name="withNorm"/> (else 0), from the same read.
    /// </summary>
    private static double GramProductInto(GramSource matrix, float[] v, float[] u, float[] w, Subspace buffers, bool withNorm)
    {
        int rows = matrix.Rows, cols = matrix.Cols;
        w.AsSpan().Clear();
        if ((long)rows * cols < ParallelThreshold || rows < 2 || Environment.ProcessorCount < 2)
            return matrix.GramProductRows(0, rows, v, u, w, buffers.Chunk, withNorm);
        int half = rows / 2;
        double first = 0, second = 0;
        var scratch = buffers.Scratch;
        scratch.AsSpan().Clear();
        Parallel.Invoke(
            () => first = matrix.GramProductRows(0, half, v, u, w, buffers.Chunk, withNorm),
            () => second = matrix.GramProductRows(half, rows, v, u, scratch, buffers.SecondChunk, withNorm));
        TensorPrimitives.Add(w, scratch, w);
        return first + second;
    }

    /// <summary>Rows read together by the difference kernels: W_t − W0 of this many rows is formed in an L1-sized buffer.</summary>
    private const int ChunkRows = 4;

    /// <summary>
    /// A row-major matrix as the kernel reads it: a dense float32 matrix, or the difference W_t − W0 of two float32 or
    /// two bfloat16 matrices (formed a few rows at a time, never whole). Holds raw addresses of memory the caller
    /// keeps pinned for the duration of the call.
    /// </summary>
    private readonly struct GramSource(GramSource.Kind kind, nint first, nint second, int rows, int cols)
    {
        public enum Kind { Dense, Difference, BFloat16Difference }

        public int Rows => rows;

        public int Cols => cols;

        /// <summary>The kernel on rows [start, end): u[start..end) and w += Σ u_i row_i; returns Σ a² when asked.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public unsafe double GramProductRows(int start, int end, ReadOnlySpan<float> v, Span<float> u, Span<float> w, float[] chunk, bool withNorm)
        {
            if (kind == Kind.Dense)
            {
                var block = new ReadOnlySpan<float>((float*)first + (long)start * cols, (end - start) * cols);
                return KernelRows(block, cols, v, u[start..end], w, withNorm);
            }
            double sumOfSquares = 0;
            for (int i = start; i < end; i += ChunkRows)
            {
                int n = Math.Min(ChunkRows, end - i), length = n * cols;
                long offset = (long)i * cols;
                var target = chunk.AsSpan(0, length);
                if (n == ChunkRows)
                {
                    Vector<float> s0, s1, s2, s3;
                    // After the first pass (no norm to take from the buffer) bf16 rows are widened again for the second
                    // sweep, from L1 and at half the bytes, instead of stored as floats and loaded back.
                    bool widenAgain = kind == Kind.BFloat16Difference && !withNorm && CanWidenAgain;
                    if (kind == Kind.Difference)
                        DotDifferenceRows((float*)first + offset, (float*)second + offset, cols, v, target, out s0, out s1, out s2, out s3);
                    else
                        DotBFloat16DifferenceRows((ushort*)first + offset, (ushort*)second + offset, cols, v, target, !widenAgain, out s0, out s1, out s2, out s3);
                    sumOfSquares += widenAgain
                        ? FinishFourRows(target, cols, v, s0, s1, s2, s3, u.Slice(i, n), w, withNorm, (ushort*)first + offset, (ushort*)second + offset)
                        : FinishFourRows(target, cols, v, s0, s1, s2, s3, u.Slice(i, n), w, withNorm);
                    continue;
                }
                if (kind == Kind.Difference)
                    TensorPrimitives.Subtract(new ReadOnlySpan<float>((float*)first + offset, length),
                        new ReadOnlySpan<float>((float*)second + offset, length), target);
                else
                    SubtractBFloat16(new ReadOnlySpan<ushort>((ushort*)first + offset, length),
                        new ReadOnlySpan<ushort>((ushort*)second + offset, length), target);
                sumOfSquares += KernelRows(target, cols, v, u.Slice(i, n), w, withNorm);
            }
            return sumOfSquares;
        }
    }

    /// <summary>a − b of two bfloat16 bit-pattern rows, widened to float32 (the bf16 bits are the high half).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SubtractBFloat16(ReadOnlySpan<ushort> a, ReadOnlySpan<ushort> b, Span<float> target)
    {
        int width = Vector<ushort>.Count, body = a.Length - a.Length % width;
        var va = MemoryMarshal.Cast<ushort, Vector<ushort>>(a[..body]);
        var vb = MemoryMarshal.Cast<ushort, Vector<ushort>>(b[..body]);
        var wide = MemoryMarshal.Cast<float, Vector<float>>(target[..body]);
        for (int k = 0; k < va.Length; k++)
        {
            Vector.Widen(va[k], out var aLow, out var aHigh);
            Vector.Widen(vb[k], out var bLow, out var bHigh);
            wide[2 * k] = Vector.AsVectorSingle(Vector.ShiftLeft(aLow, 16)) - Vector.AsVectorSingle(Vector.ShiftLeft(bLow, 16));
            wide[2 * k + 1] = Vector.AsVectorSingle(Vector.ShiftLeft(aHigh, 16)) - Vector.AsVectorSingle(Vector.ShiftLeft(bHigh, 16));
        }
        for (int i = body; i < a.Length; i++)
            target[i] = BitConverter.UInt32BitsToSingle((uint)a[i] << 16) - BitConverter.UInt32BitsToSingle((uint)b[i] << 16);
    }

    /// <summary>bf16 bit patterns to float32: the bf16 bits are the high half of the float32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void WidenBFloat16(ReadOnlySpan<ushort> bits, Span<float> values)
    {
        var target = MemoryMarshal.Cast<float, uint>(values);
        int width = Vector<ushort>.Count, body = bits.Length - bits.Length % width;
        var source = MemoryMarshal.Cast<ushort, Vector<ushort>>(bits[..body]);
        var wide = MemoryMarshal.Cast<uint, Vector<uint>>(target[..body]);
        for (int k = 0; k < source.Length; k++)
        {
            Vector.Widen(source[k], out var low, out var high);
            wide[2 * k] = Vector.ShiftLeft(low, 16);
            wide[2 * k + 1] = Vector.ShiftLeft(high, 16);
        }
        for (int i = body; i < bits.Length; i++) target[i] = (uint)bits[i] << 16;
    }

    /// <summary>The kernel on one row block: u = block·v and w += blockᵀ u (w is not cleared). Rows go four at a
    /// time so that v and w are loaded (and w stored) once per four rows; each row is read from memory once and again
    /// from L1. Returns Σ a² over the block when <paramref name="withNorm"/> (from L1, while the rows are there).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe double KernelRows(ReadOnlySpan<float> block, int cols, ReadOnlySpan<float> v, Span<float> u, Span<float> w, bool withNorm)
    {
        int rows = u.Length, i = 0;
        double sumOfSquares = 0;
        int width = Vector<float>.Count, body = cols - cols % width;
        var vv = MemoryMarshal.Cast<float, Vector<float>>(v[..body]);
        for (; i + 4 <= rows; i += 4)
        {
            var four = block.Slice(i * cols, 4 * cols);
            var a0 = MemoryMarshal.Cast<float, Vector<float>>(four[..body]);
            var a1 = MemoryMarshal.Cast<float, Vector<float>>(four.Slice(cols, body));
            var a2 = MemoryMarshal.Cast<float, Vector<float>>(four.Slice(2 * cols, body));
            var a3 = MemoryMarshal.Cast<float, Vector<float>>(four.Slice(3 * cols, body));
            Vector<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (int k = 0; k < vv.Length; k++)
            {
                var x = vv[k];
                s0 = Vector.FusedMultiplyAdd(a0[k], x, s0);
                s1 = Vector.FusedMultiplyAdd(a1[k], x, s1);
                s2 = Vector.FusedMultiplyAdd(a2[k], x, s2);
                s3 = Vector.FusedMultiplyAdd(a3[k], x, s3);
            }
            sumOfSquares += FinishFourRows(four, cols, v, s0, s1, s2, s3, u.Slice(i, 4), w, withNorm);
        }
        for (; i < rows; i++)
        {
            var row = block.Slice(i * cols, cols);
            float ui = TensorPrimitives.Dot(row, v);
            u[i] = ui;
            TensorPrimitives.MultiplyAdd(row, ui, w, w);
            if (withNorm) sumOfSquares += TensorPrimitives.SumOfSquares(row);
        }
        return sumOfSquares;
    }

    /// <summary>
    /// The rest of the kernel on four rows (<paramref name="four"/>, row-major) whose SIMD dot products with v are
    /// summed lane-wise in <paramref name="s0"/>–<paramref name="s3"/> (lane j over the columns ≡ j modulo the width,
    /// in column order): u = the four dots (lanes, then the columns past the last whole vector), w += Σ u_r row_r
    /// (row 0 first), and Σ a² over the four rows when <paramref name="withNorm"/>. Every path runs these same
    /// operations in this order, so that the dense and the difference kernels give the same bits. With
    /// <paramref name="currentBits"/> and <paramref name="initialBits"/> (bf16 W_t and W0 of the four rows, when
    /// <see cref="CanWidenAgain"/> and no norm is asked) the rows' whole 16-column part is widened again from them, and
    /// the buffer holds only the columns past it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe double FinishFourRows(ReadOnlySpan<float> four, int cols, ReadOnlySpan<float> v,
        Vector<float> s0, Vector<float> s1, Vector<float> s2, Vector<float> s3, Span<float> u, Span<float> w, bool withNorm,
        ushort* currentBits = null, ushort* initialBits = null)
    {
        int width = Vector<float>.Count, body = cols - cols % width;
        ReadOnlySpan<float> r0 = four[..cols], r1 = four.Slice(cols, cols), r2 = four.Slice(2 * cols, cols), r3 = four.Slice(3 * cols, cols);
        float d0 = Vector.Sum(s0), d1 = Vector.Sum(s1), d2 = Vector.Sum(s2), d3 = Vector.Sum(s3);
        for (int k = body; k < cols; k++)
        {
            d0 += r0[k] * v[k];
            d1 += r1[k] * v[k];
            d2 += r2[k] * v[k];
            d3 += r3[k] * v[k];
        }
        u[0] = d0;
        u[1] = d1;
        u[2] = d2;
        u[3] = d3;
        // w is summed value by value (four rounded FMAs each, row 0 first), so any vector width gives the same bits.
        fixed (float* p0 = r0, p1 = r1, p2 = r2, p3 = r3, pw = w)
        {
            int k = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                Vector512<float> e0 = Vector512.Create(d0), e1 = Vector512.Create(d1), e2 = Vector512.Create(d2), e3 = Vector512.Create(d3);
                if (currentBits != null)
                {
                    // The rows are bf16 W_t − W0, not in the buffer below the last whole 16 columns (CanWidenAgain).
                    ushort* q1 = currentBits + cols, q2 = currentBits + 2 * cols, q3 = currentBits + 3 * cols; // W_t rows 1–3
                    ushort* z1 = initialBits + cols, z2 = initialBits + 2 * cols, z3 = initialBits + 3 * cols; // W0 rows 1–3
                    for (; k + Vector512<float>.Count <= body; k += Vector512<float>.Count)
                        Vector512.FusedMultiplyAdd(WidenedDifference512(q3 + k, z3 + k), e3, Vector512.FusedMultiplyAdd(WidenedDifference512(q2 + k, z2 + k), e2,
                            Vector512.FusedMultiplyAdd(WidenedDifference512(q1 + k, z1 + k), e1, Vector512.FusedMultiplyAdd(WidenedDifference512(currentBits + k, initialBits + k), e0,
                                Vector512.Load(pw + k))))).Store(pw + k);
                }
                for (; k + Vector512<float>.Count <= body; k += Vector512<float>.Count)
                    Vector512.FusedMultiplyAdd(Vector512.Load(p3 + k), e3, Vector512.FusedMultiplyAdd(Vector512.Load(p2 + k), e2,
                        Vector512.FusedMultiplyAdd(Vector512.Load(p1 + k), e1, Vector512.FusedMultiplyAdd(Vector512.Load(p0 + k), e0,
                            Vector512.Load(pw + k))))).Store(pw + k);
            }
            Vector<float> c0 = new(d0), c1 = new(d1), c2 = new(d2), c3 = new(d3);
            for (; k < body; k += width)
                Vector.FusedMultiplyAdd(Vector.Load(p3 + k), c3, Vector.FusedMultiplyAdd(Vector.Load(p2 + k), c2,
                    Vector.FusedMultiplyAdd(Vector.Load(p1 + k), c1, Vector.FusedMultiplyAdd(Vector.Load(p0 + k), c0,
                        Vector.Load(pw + k))))).Store(pw + k);
        }
        for (int k = body; k < cols; k++)
            w[k] += d0 * r0[k] + d1 * r1[k] + d2 * r2[k] + d3 * r3[k];
        return withNorm ? TensorPrimitives.SumOfSquares(four) : 0;
    }

    /// <summary>The dot loop of the kernel on four rows of W_t − W0 (fp32), the rows formed as they are read: each
    /// difference is stored into <paramref name="four"/> (for the second sweep, from L1) and dotted with v in the
    /// lanes of <see cref="FinishFourRows"/>, so the sums are those of subtracting first and then running the kernel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void DotDifferenceRows(float* current, float* initial, int cols, ReadOnlySpan<float> v, Span<float> four,
        out Vector<float> s0, out Vector<float> s1, out Vector<float> s2, out Vector<float> s3)
    {
        int width = Vector<float>.Count, body = cols - cols % width;
        Vector<float> t0 = default, t1 = default, t2 = default, t3 = default;
        fixed (float* pv = v, pa = four)
        {
            float* c1 = current + cols, c2 = current + 2 * cols, c3 = current + 3 * cols;
            float* b1 = initial + cols, b2 = initial + 2 * cols, b3 = initial + 3 * cols;
            float* a1 = pa + cols, a2 = pa + 2 * cols, a3 = pa + 3 * cols;
            for (int k = 0; k < body; k += width)
            {
                var x = Vector.Load(pv + k);
                var d0 = Vector.Load(current + k) - Vector.Load(initial + k);
                var d1 = Vector.Load(c1 + k) - Vector.Load(b1 + k);
                var d2 = Vector.Load(c2 + k) - Vector.Load(b2 + k);
                var d3 = Vector.Load(c3 + k) - Vector.Load(b3 + k);
                d0.Store(pa + k);
                d1.Store(a1 + k);
                d2.Store(a2 + k);
                d3.Store(a3 + k);
                t0 = Vector.FusedMultiplyAdd(d0, x, t0);
                t1 = Vector.FusedMultiplyAdd(d1, x, t1);
                t2 = Vector.FusedMultiplyAdd(d2, x, t2);
                t3 = Vector.FusedMultiplyAdd(d3, x, t3);
            }
            for (int r = 0; r < 4; r++)
                for (int k = body; k < cols; k++)
                    pa[r * cols + k] = current[r * cols + k] - initial[r * cols + k];
        }
        (s0, s1, s2, s3) = (t0, t1, t2, t3);
    }

    /// <summary><see cref="DotDifferenceRows"/> for bfloat16 bit patterns: each value is widened (the bf16 bits are
    /// the high half of the float32, so the widening is exact) and W0 subtracted inside the loop, two vectors of
    /// columns per load of each matrix.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void DotBFloat16DifferenceRows(ushort* current, ushort* initial, int cols, ReadOnlySpan<float> v, Span<float> four, bool store,
        out Vector<float> s0, out Vector<float> s1, out Vector<float> s2, out Vector<float> s3)
    {
        int width = Vector<float>.Count, body = cols - cols % width, pairs = body - body % (2 * width);
        Vector<float> t0 = default, t1 = default, t2 = default, t3 = default;
        fixed (float* pv = v, pa = four)
        {
            ushort* c1 = current + cols, c2 = current + 2 * cols, c3 = current + 3 * cols;
            ushort* b1 = initial + cols, b2 = initial + 2 * cols, b3 = initial + 3 * cols;
            float* a1 = pa + cols, a2 = pa + 2 * cols, a3 = pa + 3 * cols;
            int k = 0;
            if (Avx512F.IsSupported && width == Vector256<float>.Count)
            {
                // Sixteen columns per step at 512 bits; the dots take the two 256-bit halves in column order, so the
                // lanes and their order are those of the loop below.
                for (; k < pairs; k += 2 * width)
                {
                    Vector256<float> x = Vector256.Load(pv + k), y = Vector256.Load(pv + k + width);
                    var d0 = WidenedDifference512(current + k, initial + k);
                    var d1 = WidenedDifference512(c1 + k, b1 + k);
                    var d2 = WidenedDifference512(c2 + k, b2 + k);
                    var d3 = WidenedDifference512(c3 + k, b3 + k);
                    if (store)
                    {
                        d0.Store(pa + k);
                        d1.Store(a1 + k);
                        d2.Store(a2 + k);
                        d3.Store(a3 + k);
                    }
                    t0 = Vector256.FusedMultiplyAdd(d0.GetUpper(), y, Vector256.FusedMultiplyAdd(d0.GetLower(), x, t0.AsVector256())).AsVector();
                    t1 = Vector256.FusedMultiplyAdd(d1.GetUpper(), y, Vector256.FusedMultiplyAdd(d1.GetLower(), x, t1.AsVector256())).AsVector();
                    t2 = Vector256.FusedMultiplyAdd(d2.GetUpper(), y, Vector256.FusedMultiplyAdd(d2.GetLower(), x, t2.AsVector256())).AsVector();
                    t3 = Vector256.FusedMultiplyAdd(d3.GetUpper(), y, Vector256.FusedMultiplyAdd(d3.GetLower(), x, t3.AsVector256())).AsVector();
                }
            }
            for (; k < pairs; k += 2 * width)
            {
                Vector<float> x = Vector.Load(pv + k), y = Vector.Load(pv + k + width);
                var (d0, e0) = WidenedDifference(current + k, initial + k);
                var (d1, e1) = WidenedDifference(c1 + k, b1 + k);
                var (d2, e2) = WidenedDifference(c2 + k, b2 + k);
                var (d3, e3) = WidenedDifference(c3 + k, b3 + k);
                d0.Store(pa + k);
                e0.Store(pa + k + width);
                d1.Store(a1 + k);
                e1.Store(a1 + k + width);
                d2.Store(a2 + k);
                e2.Store(a2 + k + width);
                d3.Store(a3 + k);
                e3.Store(a3 + k + width);
                t0 = Vector.FusedMultiplyAdd(e0, y, Vector.FusedMultiplyAdd(d0, x, t0));
                t1 = Vector.FusedMultiplyAdd(e1, y, Vector.FusedMultiplyAdd(d1, x, t1));
                t2 = Vector.FusedMultiplyAdd(e2, y, Vector.FusedMultiplyAdd(d2, x, t2));
                t3 = Vector.FusedMultiplyAdd(e3, y, Vector.FusedMultiplyAdd(d3, x, t3));
            }
            // The odd vector of columns and the tail: widened one value at a time (the same exact values).
            for (int r = 0; r < 4; r++)
                for (int j = k; j < cols; j++)
                    pa[r * cols + j] = BitConverter.UInt32BitsToSingle((uint)current[r * cols + j] << 16)
                        - BitConverter.UInt32BitsToSingle((uint)initial[r * cols + j] << 16);
            if (k < body)
            {
                var x = Vector.Load(pv + k);
                t0 = Vector.FusedMultiplyAdd(Vector.Load(pa + k), x, t0);
                t1 = Vector.FusedMultiplyAdd(Vector.Load(a1 + k), x, t1);
                t2 = Vector.FusedMultiplyAdd(Vector.Load(a2 + k), x, t2);
                t3 = Vector.FusedMultiplyAdd(Vector.Load(a3 + k), x, t3);
            }
        }
        (s0, s1, s2, s3) = (t0, t1, t2, t3);
    }

    /// <summary>Whether the bf16 kernel can skip storing its rows for the second sweep (<see cref="FinishFourRows"/>
    /// widens them again): its dot loop takes sixteen columns per step, as the 512-bit w update does.</summary>
    private static bool CanWidenAgain => Avx512F.IsSupported && Vector512.IsHardwareAccelerated && Vector<float>.Count == Vector256<float>.Count;

    /// <summary>W_t − W0 of sixteen bf16 columns as float32 (zero-extended to 32 bits and shifted into the high half).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<float> WidenedDifference512(ushort* current, ushort* initial) =>
        Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512UInt32(Vector256.Load(current)), 16).AsSingle()
        - Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512UInt32(Vector256.Load(initial)), 16).AsSingle();

    /// <summary>W_t − W0 of two vectors of bf16 columns (one vector of bit patterns each), as float32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe (Vector<float> Low, Vector<float> High) WidenedDifference(ushort* current, ushort* initial)
    {
        Vector.Widen(Vector.Load(current), out var cLow, out var cHigh);
        Vector.Widen(Vector.Load(initial), out var bLow, out var bHigh);
        return (Vector.AsVectorSingle(Vector.ShiftLeft(cLow, 16)) - Vector.AsVectorSingle(Vector.ShiftLeft(bLow, 16)),
            Vector.AsVectorSingle(Vector.ShiftLeft(cHigh, 16)) - Vector.AsVectorSingle(Vector.ShiftLeft(bHigh, 16)));
    }

    internal static void FillRandomUnit(Span<float> v, int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < v.Length; i++) v[i] = (float)(random.NextDouble() * 2.0 - 1.0);
        TensorPrimitives.Divide(v, TensorPrimitives.Norm(v), v);
    }

    private static float[] UnitBasis(int length)
    {
        var e = new float[length];
        e[0] = 1f;
        return e;
    }

    /// <summary>The vectors of one Rayleigh–Ritz step: x (current V), r (residual), p (previous step) with their
    /// images under A (length rows) and G = AᵀA (length cols).</summary>
    private sealed class Subspace(int rows, int cols)
    {
        public readonly float[] X = new float[cols], AX = new float[rows], GX = new float[cols];
        public readonly float[] R = new float[cols], AR = new float[rows], GR = new float[cols], Scratch = new float[cols];
        public readonly float[] Chunk = new float[ChunkRows * cols], SecondChunk = new float[ChunkRows * cols];
        private readonly float[] _p = new float[cols], _ap = new float[rows], _gp = new float[cols];
        private readonly float[] _nx = new float[cols], _nax = new float[rows], _ngx = new float[cols];
        private bool _hasP;

        /// <summary>r = G x − λ x, made orthogonal to x and unit; false when it vanishes (x is exact).</summary>
        public bool PrepareResidual(float sigma)
        {
            float lambda = sigma * sigma;
            TensorPrimitives.MultiplyAdd(X, -lambda, GX, R);
            TensorPrimitives.MultiplyAdd(X, -TensorPrimitives.Dot(X, R), R, R);
            float norm = TensorPrimitives.Norm(R);
            if (!(norm > 1e-7f * lambda)) return false;
            TensorPrimitives.Divide(R, norm, R);
            return true;
        }

        /// <summary>Rayleigh–Ritz on span{x, r, p}; x becomes the best vector, p the step taken. Returns ||x_new − x||.</summary>
        public float Step()
        {
            // Orthonormalise p against x and r (same combination on its images); drop it when it adds nothing.
            bool useP = _hasP;
            if (useP)
            {
                for (int pass = 0; pass < 2; pass++)
                {
                    Remove(X, AX, GX, _p, _ap, _gp);
                    Remove(R, AR, GR, _p, _ap, _gp);
                }
                float pn = TensorPrimitives.Norm(_p);
                useP = pn > 1e-6f;
                if (useP) Scale(1f / pn, _p, _ap, _gp);
            }
            int k = useP ? 3 : 2;
            var ax = useP ? new[] { AX, AR, _ap } : new[] { AX, AR };
            var m = new double[k, k];
            for (int i = 0; i < k; i++)
                for (int j = i; j < k; j++)
                    m[i, j] = m[j, i] = TensorPrimitives.Dot(ax[i], ax[j]); // q_iᵀ AᵀA q_j
            var y = TopEigenvector(m);
            if (y[0] < 0) for (int i = 0; i < k; i++) y[i] = -y[i];

            // p = y1 r + y2 p and x_new = y0 x + p, each with its images.
            Combine((float)y[1], R, useP ? (float)y[2] : 0f, _p, _p);
            Combine((float)y[1], AR, useP ? (float)y[2] : 0f, _ap, _ap);
            Combine((float)y[1], GR, useP ? (float)y[2] : 0f, _gp, _gp);
            _hasP = true;
            TensorPrimitives.MultiplyAdd(X, (float)y[0], _p, _nx);
            TensorPrimitives.MultiplyAdd(AX, (float)y[0], _ap, _nax);
            TensorPrimitives.MultiplyAdd(GX, (float)y[0], _gp, _ngx);
            float norm = TensorPrimitives.Norm(_nx);
            Scale(1f / norm, _nx, _nax, _ngx);
            float change = TensorPrimitives.Distance<float>(_nx, X);
            _nx.CopyTo(X, 0);
            _nax.CopyTo(AX, 0);
            _ngx.CopyTo(GX, 0);
            return change;
        }

        /// <summary>After a single read: u = A x / σ, σ = ‖A x‖, and V the power step G x / ‖G x‖ (the better
        /// estimate, and the next warm start; σ and u are those of x, within the same small angle).</summary>
        public SingularTriplet PowerStepResult(float sigma)
        {
            var u = new float[AX.Length];
            TensorPrimitives.Divide(AX, sigma, u);
            var v = new float[GX.Length];
            TensorPrimitives.Divide(GX, TensorPrimitives.Norm(GX), v);
            return new SingularTriplet(sigma, u, v, 1, Converged: false);
        }

        public SingularTriplet Result(float sigma, int passes, bool converged)
        {
            var u = new float[AX.Length];
            if (sigma > 0f) TensorPrimitives.Divide(AX, sigma, u);
            return new SingularTriplet(sigma, u, (float[])X.Clone(), passes, converged);
        }

        private static void Remove(float[] q, float[] aq, float[] gq, float[] p, float[] ap, float[] gp)
        {
            float c = TensorPrimitives.Dot(q, p);
            TensorPrimitives.MultiplyAdd(q, -c, p, p);
            TensorPrimitives.MultiplyAdd(aq, -c, ap, ap);
            TensorPrimitives.MultiplyAdd(gq, -c, gp, gp);
        }

        private static void Scale(float s, float[] a, float[] b, float[] c)
        {
            TensorPrimitives.Multiply(a, s, a);
            TensorPrimitives.Multiply(b, s, b);
            TensorPrimitives.Multiply(c, s, c);
        }

        /// <summary>target = a·x + b·y (target may be y).</summary>
        private static void Combine(float a, float[] x, float b, float[] y, float[] target)
        {
            TensorPrimitives.Multiply(y, b, target);
            TensorPrimitives.MultiplyAdd(x, a, target, target);
        }
    }

    /// <summary>Unit eigenvector of the largest eigenvalue of a small symmetric matrix (cyclic Jacobi, in place).</summary>
    internal static double[] TopEigenvector(double[,] m)
    {
        int n = m.GetLength(0);
        var vectors = new double[n, n];
        for (int i = 0; i < n; i++) vectors[i, i] = 1;
        for (int sweep = 0; sweep < 50; sweep++)
        {
            double off = 0;
            for (int p = 0; p < n; p++)
                for (int q = p + 1; q < n; q++) off += m[p, q] * m[p, q];
            if (off < 1e-30) break;
            for (int p = 0; p < n; p++)
                for (int q = p + 1; q < n; q++)
                {
                    if (m[p, q] == 0) continue;
                    double theta = (m[q, q] - m[p, p]) / (2 * m[p, q]);
                    double t = Math.Sign(theta == 0 ? 1 : theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++)
                    {
                        double mkp = m[k, p], mkq = m[k, q];
                        m[k, p] = c * mkp - s * mkq;
                        m[k, q] = s * mkp + c * mkq;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double mpk = m[p, k], mqk = m[q, k];
                        m[p, k] = c * mpk - s * mqk;
                        m[q, k] = s * mpk + c * mqk;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double vkp = vectors[k, p], vkq = vectors[k, q];
                        vectors[k, p] = c * vkp - s * vkq;
                        vectors[k, q] = s * vkp + c * vkq;
                    }
                }
        }
        int best = 0;
        for (int i = 1; i < n; i++) if (m[i, i] > m[best, best]) best = i;
        var y = new double[n];
        double norm = 0;
        for (int i = 0; i < n; i++) norm += vectors[i, best] * vectors[i, best];
        for (int i = 0; i < n; i++) y[i] = vectors[i, best] / Math.Sqrt(norm);
        return y;
    }
}
