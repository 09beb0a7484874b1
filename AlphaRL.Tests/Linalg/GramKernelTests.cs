using System.Runtime.InteropServices;
using AlphaRl.Linalg;
using AlphaRl.Tests.Support;

namespace AlphaRl.Tests.Linalg;

/// <summary>The Gram kernel (u = A v, w = Aᵀ A v and ‖A‖² in one read) at every SIMD width and the scalar fallback,
/// against a float64 reference, on shapes whose rows are not a multiple of four and whose columns are not a multiple
/// of any vector width.</summary>
public class GramKernelTests
{
    // The widths this machine accelerates (the scalar fallback everywhere); cases name widths and kinds, internal types.
    private static readonly KernelWidth[] Widths =
        new[] { KernelWidth.Scalar, KernelWidth.Vector128, KernelWidth.Vector256, KernelWidth.Vector512 }.Where(GramKernel.IsAccelerated).ToArray();

    private static readonly GramSource.Kind[] Kinds = [GramSource.Kind.Dense, GramSource.Kind.Difference, GramSource.Kind.BFloat16Difference];

    // One thread (one row, odd sizes) and two threads (over 512 K values, uneven row blocks).
    private static readonly object[] Shapes = [new[] { 1, 37 }, new[] { 7, 101 }, new[] { 13, 67 }, new[] { 1027, 517 }];

    private static IEnumerable<TestCaseData> Cases() =>
        from width in Widths
        from kind in Kinds
        from shape in Shapes.Cast<int[]>()
        select new TestCaseData(width.ToString(), kind.ToString(), shape[0], shape[1]);

    private static IEnumerable<TestCaseData> WidthsAndShapes() =>
        from width in Widths
        from shape in Shapes.Cast<int[]>()
        select new TestCaseData(width.ToString(), shape[0], shape[1]);

    /// <summary>W_t and W0 as bf16 bit patterns, and as float32: the patterns widened (exactly), so that all three
    /// kinds read the same update.</summary>
    private sealed class Pair
    {
        public readonly ushort[] CurrentBits, InitialBits;
        public readonly float[] Current, Initial;

        public Pair(int rows, int cols, int seed)
        {
            var random = new Random(seed);
            int n = rows * cols;
            (CurrentBits, InitialBits) = (Pinned<ushort>(n), Pinned<ushort>(n));
            (Current, Initial) = (Pinned<float>(n), Pinned<float>(n));
            for (int i = 0; i < n; i++)
            {
                float initial = Synthetic.Gaussian(random);
                InitialBits[i] = (ushort)(BitConverter.SingleToUInt32Bits(initial) >> 16);
                CurrentBits[i] = (ushort)(BitConverter.SingleToUInt32Bits(initial + 0.05f * Synthetic.Gaussian(random)) >> 16);
                Initial[i] = BitConverter.UInt32BitsToSingle((uint)InitialBits[i] << 16);
                Current[i] = BitConverter.UInt32BitsToSingle((uint)CurrentBits[i] << 16);
            }
        }

        /// <summary>A as the kernel of <paramref name="kind"/> reads it (dense: the update, formed here).</summary>
        public GramSource Source(GramSource.Kind kind, int rows, int cols, KernelWidth width) => kind switch
        {
            GramSource.Kind.Dense => new(kind, Address(Update()), 0, rows, cols, width),
            GramSource.Kind.Difference => new(kind, Address(Current), Address(Initial), rows, cols, width),
            _ => new(kind, Address(CurrentBits), Address(InitialBits), rows, cols, width),
        };

        public double[] Reference => Current.Zip(Initial, (a, b) => (double)a - b).ToArray();

        private float[]? _update;

        private float[] Update()
        {
            if (_update is null)
            {
                _update = Pinned<float>(Current.Length);
                for (int i = 0; i < _update.Length; i++) _update[i] = Current[i] - Initial[i];
            }
            return _update;
        }
    }

    private static T[] Pinned<T>(int length) where T : unmanaged => GC.AllocateArray<T>(length, pinned: true);

    private static nint Address<T>(T[] pinned) where T : unmanaged => Marshal.UnsafeAddrOfPinnedArrayElement(pinned, 0);

    private static (float[] U, float[] W, double SumOfSquares) Product(GramSource source, float[] v)
    {
        var u = new float[source.Rows];
        var w = new float[source.Cols];
        double sumOfSquares = GramKernel.Product(source, v, u, w, new GramBuffers(source.Cols), withNorm: true);
        return (u, w, sumOfSquares);
    }

    private static double RelativeError(float[] actual, double[] expected)
    {
        double error = 0, norm = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            error += (actual[i] - expected[i]) * (actual[i] - expected[i]);
            norm += expected[i] * expected[i];
        }
        return Math.Sqrt(error / norm);
    }

    [TestCaseSource(nameof(Cases))]
    public void Product_MatchesAFloat64Reference(string widthName, string kindName, int rows, int cols)
    {
        var (width, kind) = (Enum.Parse<KernelWidth>(widthName), Enum.Parse<GramSource.Kind>(kindName));
        var pair = new Pair(rows, cols, seed: rows * cols + (int)kind);
        var v = Synthetic.UnitVector(cols, new Random(cols));
        var a = pair.Reference;
        var (expectedU, expectedW) = (new double[rows], new double[cols]);
        double expectedSumOfSquares = a.Sum(x => x * x);
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++) expectedU[i] += a[i * cols + j] * v[j];
            for (int j = 0; j < cols; j++) expectedW[j] += expectedU[i] * a[i * cols + j];
        }

        var (u, w, sumOfSquares) = Product(pair.Source(kind, rows, cols, width), v);

        Assert.That(RelativeError(u, expectedU), Is.LessThan(1e-5));
        Assert.That(RelativeError(w, expectedW), Is.LessThan(1e-5));
        Assert.That(sumOfSquares, Is.EqualTo(expectedSumOfSquares).Within(1e-3).Percent);
    }

    [TestCaseSource(nameof(WidthsAndShapes))]
    public void BFloat16Difference_MatchesTheFloat32Difference_OnTheWidenedWeights(string widthName, int rows, int cols)
    {
        var width = Enum.Parse<KernelWidth>(widthName);
        var pair = new Pair(rows, cols, seed: rows + cols);
        var v = Synthetic.UnitVector(cols, new Random(rows));

        var (u16, w16, norm16) = Product(pair.Source(GramSource.Kind.BFloat16Difference, rows, cols, width), v);
        var (u32, w32, norm32) = Product(pair.Source(GramSource.Kind.Difference, rows, cols, width), v);

        // The widening is exact; only the order of the sums differs (even and odd columns apart), and not at all
        // on the scalar fallback.
        double tolerance = width == KernelWidth.Scalar ? 0 : 1e-6;
        Assert.That(RelativeError(u16, u32.Select(x => (double)x).ToArray()), Is.LessThanOrEqualTo(tolerance));
        Assert.That(RelativeError(w16, w32.Select(x => (double)x).ToArray()), Is.LessThanOrEqualTo(tolerance));
        Assert.That(norm16, Is.EqualTo(norm32).Within(tolerance * 100).Percent);
    }

    [TestCase(4, 37)]
    [TestCase(16, 64)]
    [TestCase(16, 95)]
    public void Deinterleave_ThenInterleave_GivesBackTheVector(int lanes, int length)
    {
        var natural = Enumerable.Range(0, length).Select(i => (float)i).ToArray();
        var kernelOrder = new float[length];
        var back = new float[length];

        GramKernel.Deinterleave(natural, kernelOrder, lanes);
        GramKernel.Interleave(kernelOrder, back, lanes);

        Assert.That(kernelOrder[..lanes], Is.EqualTo(Enumerable.Range(0, lanes).Select(i => (float)(2 * i))));
        Assert.That(back, Is.EqualTo(natural));
    }
}
