using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace AlphaRl.Linalg;

/// <summary>The SIMD width the Gram kernel runs at: floats per vector, 1 for the scalar fallback.</summary>
internal enum KernelWidth { Scalar = 1, Vector128 = 4, Vector256 = 8, Vector512 = 16 }

/// <summary>
/// A row-major matrix as the kernel reads it: a dense float32 matrix, or the difference W_t − W0 of two float32 or
/// two bfloat16 matrices (never formed whole). Holds raw addresses of memory the caller keeps pinned for the
/// duration of the call, and the SIMD width the kernel reads it at.
/// </summary>
internal readonly struct GramSource(GramSource.Kind kind, nint first, nint second, int rows, int cols, KernelWidth width)
{
    public enum Kind { Dense, Difference, BFloat16Difference }

    public GramSource(Kind kind, nint first, nint second, int rows, int cols)
        : this(kind, first, second, rows, cols, GramKernel.PreferredWidth) { }

    public int Rows => rows;

    public int Cols => cols;

    /// <summary>Whether v and w are in the kernel's column order rather than the natural one (see
    /// <see cref="GramKernel.Deinterleave"/>): bf16 pairs widened by shift and mask come out as even and odd columns.</summary>
    public bool Deinterleaved => kind == Kind.BFloat16Difference && width != KernelWidth.Scalar;

    public int Width => (int)width;

    /// <summary>The kernel on rows [start, end): u[start..end) = A v and w += Σ u_i row_i, with v and w in the kernel's
    /// column order; returns Σ a² over the rows when asked.</summary>
    public unsafe double GramProductRows(int start, int end, ReadOnlySpan<float> v, Span<float> u, Span<float> w, float[] chunk, bool withNorm)
    {
        fixed (float* pv = v, pu = u, pw = w, pc = chunk)
        {
            var rows = new RowRange(first, second, cols, start, end, pv, pu, pw, pc, withNorm);
            return width switch
            {
                KernelWidth.Vector512 => GramKernel.Rows<Lanes512>(kind, rows),
                KernelWidth.Vector256 => GramKernel.Rows<Lanes256>(kind, rows),
                KernelWidth.Vector128 => GramKernel.Rows<Lanes128>(kind, rows),
                _ => GramKernel.Rows<Lanes1>(kind, rows),
            };
        }
    }
}

/// <summary>The kernel's working memory for a matrix of <paramref name="cols"/> columns, allocated once per call of the
/// routine: a chunk of rows per thread, the second thread's share of w, and v and w in the kernel's column order.</summary>
internal sealed class GramBuffers(int cols)
{
    public readonly float[] Chunk = new float[GramKernel.ChunkRows * cols], SecondChunk = new float[GramKernel.ChunkRows * cols];
    public readonly float[] Scratch = new float[cols], KernelV = new float[cols], KernelW = new float[cols];
}

/// <summary>What one call of the row kernel reads and writes (pointers into pinned memory).</summary>
internal readonly unsafe struct RowRange(nint first, nint second, int cols, int start, int end,
    float* v, float* u, float* w, float* chunk, bool withNorm)
{
    public readonly nint First = first, Second = second;
    public readonly int Cols = cols, Start = start, End = end;
    public readonly float* V = v, U = u, W = w, Chunk = chunk;
    public readonly bool WithNorm = withNorm;
}

/// <summary>
/// The kernel of <see cref="TopSingular"/>: u = A v and w = Aᵀ A v in one read of A, where A is dense or the
/// difference of two matrices formed on the fly (fp32, or bf16 widened by a 16-bit shift and a mask). Rows go four
/// at a time: the first sweep reads each value once from memory, subtracts W0, dots the rows with v and leaves the
/// four difference rows in an L1-sized chunk; the second adds them into w from there. One body serves every SIMD
/// width (512, 256, 128 bits, or one float: the scalar fallback), each a thin struct over its vector type.
/// </summary>
internal static class GramKernel
{
    /// <summary>The widest SIMD width the hardware accelerates.</summary>
    public static KernelWidth PreferredWidth { get; } =
        Vector512.IsHardwareAccelerated ? KernelWidth.Vector512
        : Vector256.IsHardwareAccelerated ? KernelWidth.Vector256
        : Vector128.IsHardwareAccelerated ? KernelWidth.Vector128
        : KernelWidth.Scalar;

    /// <summary>Whether the kernel can run at <paramref name="width"/> here (narrower widths than the preferred one are
    /// accelerated too, except 128 bits on hardware without it).</summary>
    public static bool IsAccelerated(KernelWidth width) => width switch
    {
        KernelWidth.Vector512 => Vector512.IsHardwareAccelerated,
        KernelWidth.Vector256 => Vector256.IsHardwareAccelerated,
        KernelWidth.Vector128 => Vector128.IsHardwareAccelerated,
        _ => true,
    };

    /// <summary>Matrices at least this large (values) are read by two threads when the machine has two cores.</summary>
    private const long ParallelThreshold = 1 << 19;

    /// <summary>
    /// u = A v and w = Aᵀ A v = Σ_i u_i row_i in a single read of the row-major A: each row is dotted with v and,
    /// while it is still in L1, added into w. Half the memory traffic of A v followed by Aᵀ u. Large matrices are
    /// split into two row blocks read at once by two threads (the second block sums into a scratch vector).
    /// Returns Σ a² over A when <paramref name="withNorm"/> (else 0), from the same read.
    /// </summary>
    public static double Product(GramSource matrix, float[] v, float[] u, float[] w, GramBuffers buffers, bool withNorm)
    {
        int rows = matrix.Rows;
        float[] kernelV = v, kernelW = w;
        if (matrix.Deinterleaved)
        {
            (kernelV, kernelW) = (buffers.KernelV, buffers.KernelW);
            Deinterleave(v, kernelV, matrix.Width);
        }
        kernelW.AsSpan().Clear();
        double sumOfSquares;
        if ((long)rows * matrix.Cols < ParallelThreshold || rows < 2 || Environment.ProcessorCount < 2)
            sumOfSquares = matrix.GramProductRows(0, rows, kernelV, u, kernelW, buffers.Chunk, withNorm);
        else
        {
            int half = rows / 2;
            double first = 0, second = 0;
            var scratch = buffers.Scratch;
            scratch.AsSpan().Clear();
            Parallel.Invoke(
                () => first = matrix.GramProductRows(0, half, kernelV, u, kernelW, buffers.Chunk, withNorm),
                () => second = matrix.GramProductRows(half, rows, kernelV, u, scratch, buffers.SecondChunk, withNorm));
            TensorPrimitives.Add(kernelW, scratch, kernelW);
            sumOfSquares = first + second;
        }
        if (matrix.Deinterleaved) Interleave(kernelW, w, matrix.Width);
        return sumOfSquares;
    }

    /// <summary>Rows read together: their difference is formed in an L1-sized chunk of this many rows.</summary>
    public const int ChunkRows = 4;

    /// <summary>Dispatches on the kind once per call, so that the loops below are compiled for one source kind.</summary>
    public static double Rows<TLanes>(GramSource.Kind kind, in RowRange r) where TLanes : struct, ILanes<TLanes> => kind switch
    {
        GramSource.Kind.Dense => Rows<TLanes, DenseRows>(r),
        GramSource.Kind.Difference => Rows<TLanes, Float32Difference>(r),
        _ => Rows<TLanes, BFloat16Difference>(r),
    };

    /// <summary>The two sweeps over each group of four rows (a last group of fewer repeats its last row, with a zero
    /// coefficient). Columns beyond the last whole block of 2 vectors go through the scalar tail, in natural order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe double Rows<TLanes, TFormat>(in RowRange r)
        where TLanes : struct, ILanes<TLanes> where TFormat : struct, IRowFormat
    {
        // Locals, not the struct's fields: the stores below go through pointers, which could alias it.
        nint first = r.First, second = r.Second;
        int cols = r.Cols, end = r.End, lanes = TLanes.Count, block = 2 * lanes, body = cols - cols % block;
        float* v = r.V, u = r.U, w = r.W, c0 = r.Chunk, c1 = c0 + cols, c2 = c1 + cols, c3 = c2 + cols;
        bool withNorm = r.WithNorm;
        double sumOfSquares = 0;
        for (int i = r.Start; i < end; i += ChunkRows)
        {
            int n = Math.Min(ChunkRows, end - i);
            long o0 = (long)i * cols, o1 = (long)(i + Math.Min(1, n - 1)) * cols,
                o2 = (long)(i + Math.Min(2, n - 1)) * cols, o3 = (long)(i + Math.Min(3, n - 1)) * cols;
            TLanes s0 = default, s1 = default, s2 = default, s3 = default, t0 = default, t1 = default, t2 = default, t3 = default;
            for (int k = 0; k < body; k += block)
            {
                TLanes vx = TLanes.Load(v + k), vy = TLanes.Load(v + k + lanes);
                TFormat.Load(first, second, o0 + k, out TLanes x0, out TLanes y0);
                TFormat.Load(first, second, o1 + k, out TLanes x1, out TLanes y1);
                TFormat.Load(first, second, o2 + k, out TLanes x2, out TLanes y2);
                TFormat.Load(first, second, o3 + k, out TLanes x3, out TLanes y3);
                s0 = TLanes.MultiplyAdd(x0, vx, s0); t0 = TLanes.MultiplyAdd(y0, vy, t0);
                s1 = TLanes.MultiplyAdd(x1, vx, s1); t1 = TLanes.MultiplyAdd(y1, vy, t1);
                s2 = TLanes.MultiplyAdd(x2, vx, s2); t2 = TLanes.MultiplyAdd(y2, vy, t2);
                s3 = TLanes.MultiplyAdd(x3, vx, s3); t3 = TLanes.MultiplyAdd(y3, vy, t3);
                if (TFormat.FormsRows)
                {
                    TLanes.Store(x0, c0 + k); TLanes.Store(y0, c0 + k + lanes);
                    TLanes.Store(x1, c1 + k); TLanes.Store(y1, c1 + k + lanes);
                    TLanes.Store(x2, c2 + k); TLanes.Store(y2, c2 + k + lanes);
                    TLanes.Store(x3, c3 + k); TLanes.Store(y3, c3 + k + lanes);
                }
            }
            float d0 = TLanes.Sum(s0 + t0), d1 = TLanes.Sum(s1 + t1), d2 = TLanes.Sum(s2 + t2), d3 = TLanes.Sum(s3 + t3);
            for (int k = body; k < cols; k++)
            {
                float a0 = TFormat.Load(first, second, o0 + k), a1 = TFormat.Load(first, second, o1 + k),
                    a2 = TFormat.Load(first, second, o2 + k), a3 = TFormat.Load(first, second, o3 + k);
                d0 += a0 * v[k];
                d1 += a1 * v[k];
                d2 += a2 * v[k];
                d3 += a3 * v[k];
                if (TFormat.FormsRows) (c0[k], c1[k], c2[k], c3[k]) = (a0, a1, a2, a3);
            }
            u[i] = d0;
            if (n > 1) u[i + 1] = d1; else d1 = 0f;
            if (n > 2) u[i + 2] = d2; else d2 = 0f;
            if (n > 3) u[i + 3] = d3; else d3 = 0f;

            float* r0 = TFormat.FormsRows ? c0 : (float*)first + o0, r1 = TFormat.FormsRows ? c1 : (float*)first + o1,
                r2 = TFormat.FormsRows ? c2 : (float*)first + o2, r3 = TFormat.FormsRows ? c3 : (float*)first + o3;
            TLanes e0 = TLanes.Create(d0), e1 = TLanes.Create(d1), e2 = TLanes.Create(d2), e3 = TLanes.Create(d3);
            for (int k = 0; k < body; k += lanes)
                TLanes.Store(TLanes.MultiplyAdd(TLanes.Load(r3 + k), e3, TLanes.MultiplyAdd(TLanes.Load(r2 + k), e2,
                    TLanes.MultiplyAdd(TLanes.Load(r1 + k), e1, TLanes.MultiplyAdd(TLanes.Load(r0 + k), e0, TLanes.Load(w + k))))), w + k);
            for (int k = body; k < cols; k++)
                w[k] += d0 * r0[k] + d1 * r1[k] + d2 * r2[k] + d3 * r3[k];
            // The rows are contiguous (in the chunk, or in place for a dense matrix) and still in L1.
            if (withNorm) sumOfSquares += SumOfSquares<TLanes>(r0, n * cols);
        }
        return sumOfSquares;
    }

    /// <summary>Σ x² over <paramref name="length"/> floats (here, of the kernel's own machine code rather than a library
    /// call that a short-lived process would first run unoptimized).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe float SumOfSquares<TLanes>(float* values, int length) where TLanes : struct, ILanes<TLanes>
    {
        int lanes = TLanes.Count, body = length - length % (2 * lanes);
        TLanes s = default, t = default;
        for (int k = 0; k < body; k += 2 * lanes)
        {
            TLanes x = TLanes.Load(values + k), y = TLanes.Load(values + k + lanes);
            s = TLanes.MultiplyAdd(x, x, s);
            t = TLanes.MultiplyAdd(y, y, t);
        }
        float sum = TLanes.Sum(s + t);
        for (int k = body; k < length; k++) sum += values[k] * values[k];
        return sum;
    }

    /// <summary>v in the kernel's column order for a bf16 difference read <paramref name="lanes"/> floats at a time:
    /// within each block of 2·lanes columns, the even columns, then the odd ones (what one shift and one mask of
    /// lanes 32-bit words give); the columns after the last whole block stay in place.</summary>
    public static void Deinterleave(ReadOnlySpan<float> natural, Span<float> kernelOrder, int lanes)
    {
        int block = 2 * lanes, body = natural.Length - natural.Length % block;
        for (int b = 0; b < body; b += block)
            for (int j = 0; j < lanes; j++)
            {
                kernelOrder[b + j] = natural[b + 2 * j];
                kernelOrder[b + lanes + j] = natural[b + 2 * j + 1];
            }
        natural[body..].CopyTo(kernelOrder[body..]);
    }

    /// <summary>The inverse of <see cref="Deinterleave"/>: w back in natural column order.</summary>
    public static void Interleave(ReadOnlySpan<float> kernelOrder, Span<float> natural, int lanes)
    {
        int block = 2 * lanes, body = natural.Length - natural.Length % block;
        for (int b = 0; b < body; b += block)
            for (int j = 0; j < lanes; j++)
            {
                natural[b + 2 * j] = kernelOrder[b + j];
                natural[b + 2 * j + 1] = kernelOrder[b + lanes + j];
            }
        kernelOrder[body..].CopyTo(natural[body..]);
    }
}

/// <summary>How the kernel reads a row's values as float32: in place (dense) or as the difference of two matrices.</summary>
internal interface IRowFormat
{
    /// <summary>Whether the first sweep forms the rows in the chunk (differences) rather than leaving them in place.</summary>
    static abstract bool FormsRows { get; }

    /// <summary>The 2·lanes values from element <paramref name="index"/> as two vectors (bf16: even and odd columns).</summary>
    static abstract void Load<TLanes>(nint first, nint second, long index, out TLanes x, out TLanes y) where TLanes : struct, ILanes<TLanes>;

    /// <summary>The value at element <paramref name="index"/>.</summary>
    static abstract float Load(nint first, nint second, long index);
}

internal readonly unsafe struct DenseRows : IRowFormat
{
    public static bool FormsRows => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load<TLanes>(nint first, nint second, long index, out TLanes x, out TLanes y) where TLanes : struct, ILanes<TLanes>
    {
        x = TLanes.Load((float*)first + index);
        y = TLanes.Load((float*)first + index + TLanes.Count);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load(nint first, nint second, long index) => ((float*)first)[index];
}

internal readonly unsafe struct Float32Difference : IRowFormat
{
    public static bool FormsRows => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load<TLanes>(nint first, nint second, long index, out TLanes x, out TLanes y) where TLanes : struct, ILanes<TLanes>
    {
        x = TLanes.Load((float*)first + index) - TLanes.Load((float*)second + index);
        y = TLanes.Load((float*)first + index + TLanes.Count) - TLanes.Load((float*)second + index + TLanes.Count);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load(nint first, nint second, long index) => ((float*)first)[index] - ((float*)second)[index];
}

internal readonly unsafe struct BFloat16Difference : IRowFormat
{
    public static bool FormsRows => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load<TLanes>(nint first, nint second, long index, out TLanes x, out TLanes y) where TLanes : struct, ILanes<TLanes>
    {
        TLanes.LoadBFloat16((ushort*)first + index, out var currentEven, out var currentOdd);
        TLanes.LoadBFloat16((ushort*)second + index, out var initialEven, out var initialOdd);
        x = currentEven - initialEven;
        y = currentOdd - initialOdd;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load(nint first, nint second, long index) =>
        BitConverter.UInt32BitsToSingle((uint)((ushort*)first)[index] << 16) - BitConverter.UInt32BitsToSingle((uint)((ushort*)second)[index] << 16);
}
