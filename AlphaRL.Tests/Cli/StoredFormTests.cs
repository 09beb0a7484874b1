using System.Runtime.InteropServices;
using AlphaRl.Checkpoints;
using AlphaRl.Cli;
using AlphaRl.DevTools;
using AlphaRl.Extrapolation;
using AlphaRl.Linalg;
using AlphaRl.Tests.Checkpoints;
using AlphaRl.Tracking;

namespace AlphaRl.Tests.Cli;

/// <summary>The offline tool works on weights in their stored form (bf16 bit patterns fed to the kernels, bf16 jumps
/// rounded in one pass): the same numbers as the float32 route, and non-finite values still named where they are.</summary>
public class StoredFormTests : TempFolderTests
{
    private static readonly long[] Steps = [10, 20, 30];
    private const string Q = "model.layers.0.self_attn.q_proj.weight", K = "model.layers.0.self_attn.k_proj.weight";
    private readonly SyntheticModel _model = new(1, 16, 24, 5, SafetensorsDType.BF16);

    private string File(long step) => Path.Combine(SyntheticSeries.Folder(Temp.Path, step), Checkpoint.SingleFileName);

    private void PokeBFloat16(long step, string tensor, int element, ushort bits)
    {
        long at;
        using (var file = SafetensorsFile.Open(File(step)))
            at = file.DataStart + file.Tensor(tensor).Begin + 2L * element;
        using var stream = new FileStream(File(step), FileMode.Open, FileAccess.Write);
        stream.Position = at;
        stream.Write(BitConverter.GetBytes(bits));
    }

    private (int Exit, string Output, string Error) Record(long step) =>
        CliHarness.Run("record", SyntheticSeries.Folder(Temp.Path, step), "--step", $"{step}", "--base", SyntheticSeries.Folder(Temp.Path, 0), "--store", Temp["store"]);

    [Test]
    public void ApplyBFloat16_IsBitForBit_DecodeApplyEncode()
    {
        var random = new Random(5);
        int rows = 7, cols = 53; // 53 columns: the vector body and the scalar tail both run
        var reference = new ushort[rows * cols];
        for (int i = 0; i < reference.Length; i++)
            reference[i] = FloatCodec.ToBFloat16(BitConverter.SingleToUInt32Bits((float)(random.NextDouble() - 0.5) * MathF.Pow(2, random.Next(-20, 20))));
        var c = Enumerable.Range(0, rows).Select(_ => (float)(random.NextDouble() - 0.5) * 1e-2f).ToArray();
        var v = Enumerable.Range(0, cols).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();

        var floats = new float[reference.Length];
        FloatCodec.Decode(MemoryMarshal.AsBytes(reference.AsSpan()), SafetensorsDType.BF16, floats);
        Rank1Jump.Apply(floats, rows, cols, c, v);
        var expected = new byte[reference.Length * 2];
        FloatCodec.Encode(floats, SafetensorsDType.BF16, expected);
        var output = new ushort[reference.Length];

        Assert.That(Rank1Jump.ApplyBFloat16(reference, output, rows, cols, c, v), Is.True);
        Assert.That(MemoryMarshal.AsBytes(output.AsSpan()).ToArray(), Is.EqualTo(expected));
    }

    [TestCase(3)]   // in the vector body
    [TestCase(52)]  // in the scalar tail
    public void ApplyBFloat16_ReportsAJumpBeyondTheBFloat16Range(int column)
    {
        int rows = 2, cols = 53;
        var reference = new ushort[rows * cols];
        var v = new float[cols];
        v[column] = 1f;
        var output = new ushort[reference.Length];

        Assert.That(Rank1Jump.ApplyBFloat16(reference, output, rows, cols, [0f, float.MaxValue], v), Is.False);
        Assert.That(Rank1Jump.ApplyBFloat16(reference, output, rows, cols, [0f, 1e30f], v), Is.True);
    }

    [Test]
    public void AllFiniteBFloat16_FindsNaNAndInfinityAtEveryPosition()
    {
        var bits = new ushort[45];
        Assert.That(StoredWeights.AllFiniteBFloat16(bits), Is.True);
        for (int i = 0; i < bits.Length; i++)
            foreach (ushort bad in new ushort[] { 0x7F80, 0xFF80, 0x7FC0 })
            {
                bits[i] = bad;
                Assert.That(StoredWeights.AllFiniteBFloat16(bits), Is.False, $"{bad:X4} at {i}");
                bits[i] = 0x7F7F; // the largest finite bf16
            }
        Assert.That(StoredWeights.AllFiniteBFloat16(bits), Is.True);
    }

    [Test]
    public void ObserveDifferenceBFloat16_RecordsTheSnapshotOfTheWidenedFloats_BitForBit()
    {
        var random = new Random(9);
        int rows = 40, cols = 24;
        ushort Bf(double x) => FloatCodec.ToBFloat16(BitConverter.SingleToUInt32Bits((float)x));
        var w0 = Enumerable.Range(0, rows * cols).Select(_ => Bf(random.NextDouble() - 0.5)).ToArray();
        var w = w0.Select((b, i) => Bf(BitConverter.UInt32BitsToSingle((uint)b << 16) + 0.01 * Math.Sin(i) + 0.001 * random.NextDouble())).ToArray();
        float[] Widen(ushort[] bits) => bits.Select(b => BitConverter.UInt32BitsToSingle((uint)b << 16)).ToArray();
        var fromBits = new SubspaceTracker();
        var fromFloats = new SubspaceTracker();

        var a = fromBits.ObserveDifferenceBFloat16("m", 10, w, w0, rows, cols);
        var b = fromFloats.ObserveDifference("m", 10, Widen(w), Widen(w0), rows, cols);

        Assert.That(a.Sigma, Is.EqualTo(b.Sigma));
        Assert.That(a.UpdateNorm, Is.EqualTo(b.UpdateNorm));
        Assert.That(a.U, Is.EqualTo(b.U));
        Assert.That(a.V, Is.EqualTo(b.V));
    }

    [Test]
    public void AnInfinityInTheBaseOfALaterMatrix_IsBlamedOnTheBase_AndNothingIsRecorded()
    {
        SyntheticSeries.Write(Temp.Path, _model, Steps);
        PokeBFloat16(0, K, 7, 0x7F80); // k_proj is read ahead while q_proj is computed

        var (exit, _, error) = Record(10);

        Assert.That(exit, Is.EqualTo(1), error);
        Assert.That(error, Does.Contain(File(0)).And.Contain(K).And.Contain("of the base").And.Contain("element 7"));
        Assert.That(error, Does.Not.Contain("at step 10"));
        Assert.That(System.IO.File.Exists(Path.Combine(Temp["store"], SnapshotStore.ManifestName)), Is.False);
        Assert.That(Directory.GetFiles(Temp["store"], "step-*"), Is.Empty);
    }

    [Test]
    public void ANaNInTheLastCheckpoint_IsNamed_WhenPredictingFromTheStore()
    {
        SyntheticSeries.Write(Temp.Path, _model, Steps);
        foreach (long s in Steps) Assert.That(Record(s).Exit, Is.EqualTo(0));
        // The store tells a rewritten checkpoint by its headers and times: a value changed in place, time kept.
        var time = System.IO.File.GetLastWriteTimeUtc(File(30));
        PokeBFloat16(30, K, 0, 0x7FC0); // k_proj is read ahead while q_proj is jumped and written
        System.IO.File.SetLastWriteTimeUtc(File(30), time);

        var (exit, _, error) = CliHarness.Run("predict", "--store", Temp["store"], "--target-step", "90", "--out", Temp["out"]);

        Assert.That(exit, Is.EqualTo(1), error);
        Assert.That(error, Does.Contain(File(30)).And.Contain(K).And.Contain("at step 30").And.Contain("NaN"));
        Assert.That(Directory.Exists(Temp["out"]), Is.False);
    }

    [Test]
    public void BenchOfflineRecordFloor_TimesTheReadAndBothKernels_AndReportsTheOnePassError()
    {
        string dir = Temp["floor"];
        var (exit, output, error) = CliHarness.RunDevTools("bench-offline", "--dir", dir, "--layers", "1", "--hidden", "64", "--intermediate", "128",
            "--vocab", "32", "--checkpoints", "3", "--runs", "2", "--record-floor");

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("read W0 and W_t of every covered matrix").And.Contain("kernel, one pass").And.Contain("7 covered matrices of step 30"));
        var match = System.Text.RegularExpressions.Regex.Match(output, @"kernel, record's settings \((\d+)-(\d+) passes\)");
        Assert.That(match.Success, output);
        Assert.That(int.Parse(match.Groups[1].Value), Is.GreaterThanOrEqualTo(2), "record's settings check convergence with a second pass");
        var value = System.Text.RegularExpressions.Regex.Match(output, @"worst \|s1 - s1\*\| / s1\* = ([^,]+),");
        Assert.That(value.Success, output);
        Assert.That(double.Parse(value.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), Is.LessThan(1e-2),
            "from the previous checkpoint's v, one pass is close on a series with one dominant direction");
    }
}
