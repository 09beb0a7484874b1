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
        : this(kind, first, second, rows, cols, GramKernel.PreferredWidth(kind)) { }

    public int Rows => rows;

    public int Cols => cols;

    /// <summary>Whether v and w are in the kernel's column order rather than the natural one (see
    /// <see cref="GramKernel.Deinterleave"/>): bf16 pairs widened by shift and mask come out as even and odd columns.</summary>
    public bool Deinterleaved => kind == Kind.BFloat16Difference && width != KernelWidth.Scalar;

    public int Width => (int)width;

    /// <summary>The kernel on rows [start, end): u[start..end) = A v and w += Σ u_i row_i, with v and w in the kernel's
    /// column order; returns Σ a² over the rows when asked.</summary>
    public unsafe double GramProductRows(int start, int end, ReadOnlySpan<float> v, Span<float> u, Span<float> w, bool withNorm)
    {
        fixed (float* pv = v, pu = u, pw = w)
        {
            var rows = new RowRange(first, second, cols, start, end, pv, pu, pw, withNorm);
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
/// routine: the second thread's share of w, and v and w in the kernel's column order.</summary>
internal sealed class GramBuffers(int cols)
{
    public readonly float[] Scratch = new float[cols], KernelV = new float[cols], KernelW = new float[cols];
}

/// <summary>What one call of the row kernel reads and writes (pointers into pinned memory).</summary>
internal readonly unsafe struct RowRange(nint first, nint second, int cols, int start, int end,
    float* v, float* u, float* w, bool withNorm)
{
    public readonly nint First = first, Second = second;
    public readonly int Cols = cols, Start = start, End = end;
    public readonly float* V = v, U = u, W = w;
    public readonly bool WithNorm = withNorm;
}

/// <summary>
/// The kernel of <see cref="TopSingular"/>: u = A v and w = Aᵀ A v in one read of A, where A is dense or the
/// difference of two matrices formed on the fly (fp32, or bf16 widened by a 16-bit shift and a mask). Rows go four
/// at a time: the first sweep reads each value once from memory, subtracts W0 and dots the rows with v; the second
/// reads the same rows again from L1 or L2 and adds them into w, while it asks for the next four rows' cache lines,
/// so that memory works during both sweeps. One body serves every SIMD width (512, 256, 128 bits, or one float: the
/// scalar fallback), each a thin struct over its vector type.
/// </summary>
internal static class GramKernel
{
    /// <summary>The width a matrix of <paramref name="kind"/> is read at: the widest the hardware accelerates, except
    /// that float32 rows stay at 256 bits. Their 512-bit loads split a cache line each time the rows are not 64-byte
    /// aligned (managed arrays, checkpoint buffers), which cost more than the width gained when measured; a bf16 load
    /// is half as many rows' bytes per value and still gains.</summary>
    public static KernelWidth PreferredWidth(GramSource.Kind kind) =>
        Vector512.IsHardwareAccelerated && kind == GramSource.Kind.BFloat16Difference ? KernelWidth.Vector512
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
            sumOfSquares = matrix.GramProductRows(0, rows, kernelV, u, kernelW, withNorm);
        else
        {
            int half = rows / 2;
            double first = 0, second = 0;
            var scratch = buffers.Scratch;
            scratch.AsSpan().Clear();
            Parallel.Invoke(
                () => first = matrix.GramProductRows(0, half, kernelV, u, kernelW, withNorm),
                () => second = matrix.GramProductRows(half, rows, kernelV, u, scratch, withNorm));
            TensorPrimitives.Add(kernelW, scratch, kernelW);
            sumOfSquares = first + second;
        }
        if (matrix.Deinterleaved) Interleave(kernelW, w, matrix.Width);
        return sumOfSquares;
    }

    /// <summary>Rows read together: v is loaded, and w loaded and stored, once per this many rows.</summary>
    private const int GroupRows = 4;

    /// <summary>Dispatches on the kind once per call, so that the loops below are compiled for one source kind.</summary>
    public static double Rows<TLanes>(GramSource.Kind kind, in RowRange r) where TLanes : struct, ILanes<TLanes> => kind switch
    {
        GramSource.Kind.Dense => Rows<TLanes, DenseRows>(r),
        GramSource.Kind.Difference => Rows<TLanes, Float32Difference>(r),
        _ => Rows<TLanes, BFloat16Difference>(r),
    };

    /// <summary>The two sweeps over each group of four rows, both reading the rows as stored: the first from memory
    /// (dotting them with v), the second from L1 or L2 (adding them into w), so that W_t − W0 is never stored, not
    /// even a few rows of it: re-widening a row costs less than storing and reloading it. A last group of fewer rows
    /// repeats its last row with a zero coefficient. Columns after the last whole block of two vectors go through
    /// scalar tails, in natural order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe double Rows<TLanes, TFormat>(in RowRange r)
        where TLanes : struct, ILanes<TLanes> where TFormat : struct, IRowFormat
    {
        // Locals, not the struct's fields: the stores below go through pointers, which could alias it.
        nint first = r.First, second = r.Second;
        int cols = r.Cols, end = r.End, lanes = TLanes.Count, block = 2 * lanes, body = cols - cols % block;
        float* v = r.V, u = r.U, w = r.W;
        bool withNorm = r.WithNorm;
        double sumOfSquares = 0;
        for (int i = r.Start; i < end; i += GroupRows)
        {
            int n = Math.Min(GroupRows, end - i);
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
            }
            float d0 = TLanes.Sum(s0 + t0), d1 = TLanes.Sum(s1 + t1), d2 = TLanes.Sum(s2 + t2), d3 = TLanes.Sum(s3 + t3);
            for (int k = body; k < cols; k++)
            {
                d0 += TFormat.Load(first, second, o0 + k) * v[k];
                d1 += TFormat.Load(first, second, o1 + k) * v[k];
                d2 += TFormat.Load(first, second, o2 + k) * v[k];
                d3 += TFormat.Load(first, second, o3 + k) * v[k];
            }
            u[i] = d0;
            if (n > 1) u[i + 1] = d1; else d1 = 0f;
            if (n > 2) u[i + 2] = d2; else d2 = 0f;
            if (n > 3) u[i + 3] = d3; else d3 = 0f;

            TLanes e0 = TLanes.Create(d0), e1 = TLanes.Create(d1), e2 = TLanes.Create(d2), e3 = TLanes.Create(d3);
            // The next group's rows follow this group's in memory: ask for them now, a few lines per block.
            long next = o0 + (long)GroupRows * cols;
            bool prefetch = i + GroupRows < end;
            // Σ a² of a whole group comes from this sweep; a last group of fewer rows (which repeats one) from its own.
            bool norm = withNorm && n == GroupRows;
            TLanes q = default, p = default;
            for (int k = 0; k < body; k += block)
            {
                if (prefetch) TFormat.Prefetch(first, second, next + GroupRows * k, GroupRows * block);
                TFormat.Load(first, second, o0 + k, out TLanes x0, out TLanes y0);
                TFormat.Load(first, second, o1 + k, out TLanes x1, out TLanes y1);
                TFormat.Load(first, second, o2 + k, out TLanes x2, out TLanes y2);
                TFormat.Load(first, second, o3 + k, out TLanes x3, out TLanes y3);
                TLanes.Store(TLanes.MultiplyAdd(x3, e3, TLanes.MultiplyAdd(x2, e2, TLanes.MultiplyAdd(x1, e1,
                    TLanes.MultiplyAdd(x0, e0, TLanes.Load(w + k))))), w + k);
                TLanes.Store(TLanes.MultiplyAdd(y3, e3, TLanes.MultiplyAdd(y2, e2, TLanes.MultiplyAdd(y1, e1,
                    TLanes.MultiplyAdd(y0, e0, TLanes.Load(w + k + lanes))))), w + k + lanes);
                if (norm)
                {
                    q = TLanes.MultiplyAdd(x3, x3, TLanes.MultiplyAdd(x2, x2, TLanes.MultiplyAdd(x1, x1, TLanes.MultiplyAdd(x0, x0, q))));
                    p = TLanes.MultiplyAdd(y3, y3, TLanes.MultiplyAdd(y2, y2, TLanes.MultiplyAdd(y1, y1, TLanes.MultiplyAdd(y0, y0, p))));
                }
            }
            float tailSquares = 0f;
            for (int k = body; k < cols; k++)
            {
                float a0 = TFormat.Load(first, second, o0 + k), a1 = TFormat.Load(first, second, o1 + k),
                    a2 = TFormat.Load(first, second, o2 + k), a3 = TFormat.Load(first, second, o3 + k);
                w[k] += d0 * a0 + d1 * a1 + d2 * a2 + d3 * a3;
                tailSquares += a0 * a0 + a1 * a1 + a2 * a2 + a3 * a3;
            }
            if (norm) sumOfSquares += TLanes.Sum(q + p) + tailSquares;
            else if (withNorm) sumOfSquares += SumOfSquares<TLanes, TFormat>(first, second, o0, n * cols);
        }
        return sumOfSquares;
    }

    /// <summary>Σ a² over <paramref name="length"/> values from element <paramref name="offset"/> (rows in L1 or L2;
    /// here, of the kernel's own machine code rather than a library call that a short-lived process would first run
    /// unoptimized).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float SumOfSquares<TLanes, TFormat>(nint first, nint second, long offset, int length)
        where TLanes : struct, ILanes<TLanes> where TFormat : struct, IRowFormat
    {
        int block = 2 * TLanes.Count, body = length - length % block;
        TLanes s = default, t = default;
        for (int k = 0; k < body; k += block)
        {
            TFormat.Load(first, second, offset + k, out TLanes x, out TLanes y);
            s = TLanes.MultiplyAdd(x, x, s);
            t = TLanes.MultiplyAdd(y, y, t);
        }
        float sum = TLanes.Sum(s + t);
        for (int k = body; k < length; k++)
        {
            float a = TFormat.Load(first, second, offset + k);
            sum += a * a;
        }
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
    /// <summary>The 2·lanes values from element <paramref name="index"/> as two vectors (bf16: even and odd columns).</summary>
    static abstract void Load<TLanes>(nint first, nint second, long index, out TLanes x, out TLanes y) where TLanes : struct, ILanes<TLanes>;

    /// <summary>The value at element <paramref name="index"/>.</summary>
    static abstract float Load(nint first, nint second, long index);

    /// <summary>Asks for the cache lines of <paramref name="count"/> values from element <paramref name="index"/>.</summary>
    static abstract void Prefetch(nint first, nint second, long index, int count);
}

/// <summary>Software prefetch where the hardware has it (x86); elsewhere nothing.</summary>
internal static class Prefetch
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Lines(byte* start, int bytes)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported) return;
        for (int b = 0; b < bytes; b += 64) System.Runtime.Intrinsics.X86.Sse.Prefetch0(start + b);
    }
}

internal readonly unsafe struct DenseRows : IRowFormat
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load<TLanes>(nint first, nint second, long index, out TLanes x, out TLanes y) where TLanes : struct, ILanes<TLanes>
    {
        x = TLanes.Load((float*)first + index);
        y = TLanes.Load((float*)first + index + TLanes.Count);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load(nint first, nint second, long index) => ((float*)first)[index];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prefetch(nint first, nint second, long index, int count) => Linalg.Prefetch.Lines((byte*)((float*)first + index), count * sizeof(float));
}

internal readonly unsafe struct Float32Difference : IRowFormat
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load<TLanes>(nint first, nint second, long index, out TLanes x, out TLanes y) where TLanes : struct, ILanes<TLanes>
    {
        x = TLanes.Load((float*)first + index) - TLanes.Load((float*)second + index);
        y = TLanes.Load((float*)first + index + TLanes.Count) - TLanes.Load((float*)second + index + TLanes.Count);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load(nint first, nint second, long index) => ((float*)first)[index] - ((float*)second)[index];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prefetch(nint first, nint second, long index, int count)
    {
        Linalg.Prefetch.Lines((byte*)((float*)first + index), count * sizeof(float));
        Linalg.Prefetch.Lines((byte*)((float*)second + index), count * sizeof(float));
    }
}

internal readonly unsafe struct BFloat16Difference : IRowFormat
{
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prefetch(nint first, nint second, long index, int count)
    {
        Linalg.Prefetch.Lines((byte*)((ushort*)first + index), count * sizeof(ushort));
        Linalg.Prefetch.Lines((byte*)((ushort*)second + index), count * sizeof(ushort));
    }
}
