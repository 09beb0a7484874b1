using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using AlphaRl.Checkpoints;
using AlphaRl.Cli;
using AlphaRl.Linalg;
using AlphaRl.Tests.Checkpoints;

namespace AlphaRl.Tests.Cli;

/// <summary>
/// <c>predict</c> and <c>analyze</c> on a series of PEFT LoRA adapters. The fixtures under Fixtures/lora and the
/// expected outputs were written by Fixtures/lora/make-reference.py (NumPy, float64 math, cast once): 2 target modules
/// q_proj and v_proj [24 × 16], r = 4, lora_alpha = 8, checkpoints at steps 10, 20, 30, 40, in F32 and in BF16.
/// </summary>
public class LoraTests : TempFolderTests
{
    private static readonly long[] Steps = [10, 20, 30, 40];

    private static string Fixtures => Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "lora");

    private static string Expected(string file) => Path.Combine(Fixtures, "expected", file);

    /// <summary>The series arguments for the adapter checkpoints under <paramref name="root"/> (checkpoint-S folders).</summary>
    private static string[] Series(string root, string baseFolder) =>
        ["--base", baseFolder, .. Steps.SelectMany(s => new[] { "--checkpoint", $"{s}:{Path.Combine(root, $"checkpoint-{s}")}" })];

    private static string[] PredictArgs(string precision, string output, params string[] extra) =>
        ["predict", .. Series(Path.Combine(Fixtures, precision), Path.Combine(Fixtures, $"base-{precision}")), "--target-step", "60", "--out", output, .. extra];

    /// <summary>A writable copy of the F32 series (checkpoint folders only) under the test's folder.</summary>
    private string CopySeries()
    {
        string root = Temp["series"];
        foreach (long s in Steps)
        {
            string from = Path.Combine(Fixtures, "f32", $"checkpoint-{s}"), to = Path.Combine(root, $"checkpoint-{s}");
            Directory.CreateDirectory(to);
            foreach (string file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
        return root;
    }

    private static byte[] Raw(Checkpoint checkpoint, string name)
    {
        var t = checkpoint.Tensor(name);
        var bytes = new byte[t.Info.ByteLength];
        t.ReadRaw(bytes);
        return bytes;
    }

    /// <summary>Compares every tensor of <paramref name="actualFile"/> with the NumPy reference: same names, dtypes and
    /// shapes; F32 within 1e-6 relative (‖a − e‖_∞/‖e‖_∞ per tensor, and element by element where |e| is above 1e-3·‖e‖_∞);
    /// BF16 within 1 ulp. Returns the worst figures: max relative error (F32) and max ulps (BF16).</summary>
    private static (double Relative, double ElementRelative, int Ulps) Compare(string actualFile, string expectedFile)
    {
        using var actual = SafetensorsFile.Open(actualFile);
        using var expected = SafetensorsFile.Open(expectedFile);
        Assert.That(actual.Tensors.Select(t => t.Name).Order(), Is.EqualTo(expected.Tensors.Select(t => t.Name).Order()));
        double relative = 0, element = 0;
        int ulps = 0;
        foreach (var e in expected.Tensors)
        {
            var a = actual.Tensor(e.Name);
            Assert.That(a.SameLayout(e), $"{e.Name}: {a.DType} {a.ShapeText}, expected {e.DType} {e.ShapeText}");
            if (e.DType == SafetensorsDType.BF16)
            {
                var ab = new byte[a.ByteLength];
                var eb = new byte[e.ByteLength];
                actual.ReadRaw(a, ab);
                expected.ReadRaw(e, eb);
                var abits = MemoryMarshal.Cast<byte, ushort>(ab);
                var ebits = MemoryMarshal.Cast<byte, ushort>(eb);
                for (int i = 0; i < ebits.Length; i++) ulps = Math.Max(ulps, Math.Abs(Ordered(abits[i]) - Ordered(ebits[i])));
                continue;
            }
            var av = new float[a.ElementCount];
            var ev = new float[e.ElementCount];
            actual.ReadFloats(a, av);
            expected.ReadFloats(e, ev);
            double max = ev.Max(v => Math.Abs((double)v)), worst = 0;
            for (int i = 0; i < ev.Length; i++)
            {
                double diff = Math.Abs((double)av[i] - ev[i]);
                worst = Math.Max(worst, diff);
                if (Math.Abs(ev[i]) > 1e-3 * max) element = Math.Max(element, diff / Math.Abs(ev[i]));
            }
            relative = Math.Max(relative, worst / max);
        }
        return (relative, element, ulps);
    }

    /// <summary>A bfloat16 bit pattern as an integer ordered like the values (so that neighbours differ by 1).</summary>
    private static int Ordered(ushort bits) => (bits & 0x8000) != 0 ? -(bits & 0x7FFF) : bits;

    private static void AssertAgreement(string precision, (double Relative, double ElementRelative, int Ulps) r, string what)
    {
        TestContext.Out.WriteLine($"{what} {precision}: max relative error {r.Relative:G3} (per element {r.ElementRelative:G3}), max ulps {r.Ulps}");
        if (precision == "f32")
        {
            Assert.That(r.Relative, Is.LessThanOrEqualTo(1e-6));
            Assert.That(r.ElementRelative, Is.LessThanOrEqualTo(1e-6));
        }
        else
            Assert.That(r.Ulps, Is.LessThanOrEqualTo(1));
    }

    [TestCase("f32")]
    [TestCase("bf16")]
    public void Lora_VelocityPrediction_AgreesWithTheNumPyReference(string precision)
    {
        string output = Temp["predicted"];

        var (exit, text, error) = CliHarness.Run(PredictArgs(precision, output));

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(text, Does.Contain("velocity").And.Contain("q_proj"));
        AssertAgreement(precision, Compare(Path.Combine(output, AdapterConfig.WeightsFileName), Expected($"{precision}-velocity-step60.safetensors")), "velocity");
    }

    [TestCase("f32")]
    [TestCase("bf16")]
    public void Lora_DirectionPrediction_AgreesWithTheNumPyReference(string precision)
    {
        string output = Temp["predicted"];

        var (exit, _, error) = CliHarness.Run(PredictArgs(precision, output, "--method", "direction"));

        Assert.That(exit, Is.EqualTo(0), error);
        AssertAgreement(precision, Compare(Path.Combine(output, AdapterConfig.WeightsFileName), Expected($"{precision}-direction-step60.safetensors")), "direction");
    }

    [TestCase("f32")]
    [TestCase("bf16")]
    public void Lora_MergeInto_AgreesWithTheNumPyReference_AndCopiesTheOtherTensorsByteForByte(string precision)
    {
        string output = Temp["merged"], baseFolder = Path.Combine(Fixtures, $"base-{precision}");

        var (exit, _, error) = CliHarness.Run(PredictArgs(precision, output, "--merge-into", baseFolder));

        Assert.That(exit, Is.EqualTo(0), error);
        AssertAgreement(precision, Compare(Path.Combine(output, Checkpoint.SingleFileName), Expected($"{precision}-merged-step60.safetensors")), "merge");
        using var merged = Checkpoint.Open(output);
        using var model = Checkpoint.Open(baseFolder);
        foreach (string name in new[] { "model.embed_tokens.weight", "model.layers.0.self_attn.k_proj.weight", "model.norm.weight" })
            Assert.That(Raw(merged, name), Is.EqualTo(Raw(model, name)), name);
        Assert.That(File.ReadAllBytes(Path.Combine(output, "config.json")), Is.EqualTo(File.ReadAllBytes(Path.Combine(baseFolder, "config.json"))));
        Assert.That(File.Exists(Path.Combine(output, AdapterConfig.FileName)), Is.False, "the merged checkpoint is a full model, not an adapter");
    }

    [Test]
    public void Lora_PredictedAdapter_IsALoadableAdapterFolder_WithTheConfigCopied_AndTheNamesAndDTypesKept()
    {
        string output = Temp["predicted"], last = Path.Combine(Fixtures, "bf16", "checkpoint-40");

        var (exit, _, error) = CliHarness.Run(PredictArgs("bf16", output));

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(Directory.GetFiles(output).Select(Path.GetFileName).Order(), Is.EqualTo(new[] { AdapterConfig.FileName, AdapterConfig.WeightsFileName }));
        Assert.That(File.ReadAllBytes(Path.Combine(output, AdapterConfig.FileName)), Is.EqualTo(File.ReadAllBytes(Path.Combine(last, AdapterConfig.FileName))));
        using var written = SafetensorsFile.Open(Path.Combine(output, AdapterConfig.WeightsFileName));
        using var original = SafetensorsFile.Open(Path.Combine(last, AdapterConfig.WeightsFileName));
        Assert.That(written.Tensors.Select(t => (t.Name, t.DType, t.ShapeText)), Is.EqualTo(original.Tensors.Select(t => (t.Name, t.DType, t.ShapeText))));
        // The predicted adapter is itself an adapter checkpoint: it reads back as one, config and factors.
        using var series = AdapterSeries.Open([new StepFolder(40, last), new StepFolder(60, output)], 0);
        Assert.That(series.Modules.Select(m => m.BaseWeight), Is.EqualTo(new[] { "model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.v_proj.weight" }));
        Assert.That(series.Config.Scale, Is.EqualTo(2.0));
    }

    /// <summary>The files of a folder, name and bytes, in name order.</summary>
    private static IEnumerable<(string, byte[])> Files(string folder) =>
        Directory.GetFiles(folder).Order(StringComparer.Ordinal).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f)));

    [Test]
    public void Lora_LengthsGrid_WritesOneAdapterPerCandidate_EachAsItsOwnPrediction_AndW_eByteForByte()
    {
        string grid = Temp["grid"], single = Temp["single"];

        var a = CliHarness.Run([.. PredictArgs("f32", grid)[..^4], "--lengths", "0,1", "--out", grid]);
        var b = CliHarness.Run([.. PredictArgs("f32", single)[..^4], "--target-step", "70", "--out", single]);

        Assert.That((a.Exit, b.Exit), Is.EqualTo((0, 0)), a.Error + b.Error);
        Assert.That(Directory.GetDirectories(grid).Select(Path.GetFileName).Order(), Is.EqualTo(new[] { "j0-step40", "j1-step70" }));
        Assert.That(Files(Path.Combine(grid, "j1-step70")), Is.EqualTo(Files(single)), "L = 30: j = 1 is step 70");
        Assert.That(Files(Path.Combine(grid, "j0-step40")), Is.EqualTo(Files(Path.Combine(Fixtures, "f32", "checkpoint-40"))));
    }

    [Test]
    public void Lora_ScoreCommand_KeepsTheBestMergedCandidate_AndDeletesTheRest()
    {
        string output = Temp["best"], single = Temp["single"], baseFolder = Path.Combine(Fixtures, "base-bf16"), score = Temp["score.sh"];
        File.WriteAllText(score, "case \"$1\" in *j0.5-step55) echo 0.9 ;; *) echo 0.1 ;; esac\n");

        var a = CliHarness.Run([.. PredictArgs("bf16", output)[..^4], "--lengths", "0.5,1", "--score-command", $"sh {score}", "--merge-into", baseFolder, "--out", output]);
        var b = CliHarness.Run([.. PredictArgs("bf16", single)[..^4], "--target-step", "55", "--merge-into", baseFolder, "--out", single]);

        Assert.That((a.Exit, b.Exit), Is.EqualTo((0, 0)), a.Error + b.Error);
        Assert.That(a.Output, Does.Contain("Kept j = 0.5 (step 55, score 0.9"));
        Assert.That(Files(output), Is.EqualTo(Files(single)), "--out is the merged j = 0.5 candidate");
        Assert.That(Directory.GetFileSystemEntries(Temp.Path).Select(Path.GetFileName).Order(), Is.EqualTo(new[] { "best", "score.sh", "single" }));
    }

    [Test]
    public void Lora_Analyze_OfTheFactors_MatchesTheDenseAnalyze_OfTheMergedCheckpoints()
    {
        // The same updates written densely: W0 + scale·B_t A_t as full checkpoints, analyzed the ordinary way (power iteration).
        string dense = Temp["dense"], baseFolder = Path.Combine(Fixtures, "base-f32");
        using (var model = Checkpoint.Open(baseFolder))
        using (var series = AdapterSeries.Open(Steps.Select(s => new StepFolder(s, Path.Combine(Fixtures, "f32", $"checkpoint-{s}"))).ToList(), 0))
            foreach (var (step, adapter) in series.Window)
            {
                var tensors = new List<(string, SafetensorsDType, long[], float[])>();
                foreach (string name in model.TensorNames)
                {
                    var info = model.Tensor(name).Info;
                    var w = Read(model, name);
                    if (series.Modules.FirstOrDefault(m => m.BaseWeight == name) is { } m)
                        LoraPredict.MergeInto(w, Read(adapter, m.B), Read(adapter, m.A), m.Rows, m.Cols, m.Rank, series.Config.Scale);
                    tensors.Add((name, info.DType, info.Shape, w));
                }
                Directory.CreateDirectory(Path.Combine(dense, $"step-{step}"));
                SafetensorsFile.Write(Path.Combine(dense, $"step-{step}", Checkpoint.SingleFileName), tensors);
            }
        string[] denseSeries = ["--base", baseFolder, .. Steps.SelectMany(s => new[] { "--checkpoint", $"{s}:{Path.Combine(dense, $"step-{s}")}" })];

        var factored = CliHarness.Run(["analyze", .. Series(Path.Combine(Fixtures, "f32"), baseFolder), "--json", Temp["factored.json"]]);
        var direct = CliHarness.Run(["analyze", .. denseSeries, "--include", "q_proj|v_proj", "--json", Temp["dense.json"]]);

        Assert.That((factored.Exit, direct.Exit), Is.EqualTo((0, 0)), factored.Error + direct.Error);
        Assert.That(factored.Output, Does.Contain("LoRA adapter: r = 4"));
        var a = JsonNode.Parse(File.ReadAllText(Temp["factored.json"]))!["matrices"]!.AsArray();
        var b = JsonNode.Parse(File.ReadAllText(Temp["dense.json"]))!["matrices"]!.AsArray();
        Assert.That(a.Select(m => (string)m!["name"]!), Is.EqualTo(b.Select(m => (string)m!["name"]!)));
        for (int i = 0; i < a.Count; i++)
        {
            var shares = a[i]!["energy_share"]!.AsArray().Select(x => (double)x!).ToArray();
            var denseShares = b[i]!["energy_share"]!.AsArray().Select(x => (double)x!).ToArray();
            Assert.That(shares, Is.EqualTo(denseShares).Within(1e-4), "rank-1 energy share per step");
            foreach (string figure in new[] { "hold_out_relative_error", "hold_out_cosine" })
                Assert.That((double)a[i]![figure]!, Is.EqualTo((double)b[i]![figure]!).Within(1e-3), figure);
        }
    }

    [Test]
    public void Lora_LowRankTopSingular_MatchesTheDenseTriplet_IncludingRankDeficientAndZeroFactors()
    {
        var random = new Random(5);
        const int rows = 24, cols = 16, rank = 4;
        var a = Enumerable.Range(0, rank * cols).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var b = Enumerable.Range(0, rows * rank).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var deficient = (float[])b.Clone();
        for (int o = 0; o < rows; o++) (deficient[o * rank + 1], deficient[o * rank + 3]) = (0f, deficient[o * rank]);
        foreach (var factor in new[] { b, deficient })
        {
            var product = new float[rows * cols];
            LoraPredict.MergeInto(product, factor, a, rows, cols, rank, 1.5);

            var low = LowRankTopSingular.Compute(factor, a, rows, cols, rank, 1.5);
            var dense = TopSingular.Compute(product, rows, cols, options: PowerIterationOptions.Converged with { Tolerance = 1e-7f, MaxIterations = 5000 });

            Assert.That(low.Value, Is.EqualTo(dense.Value).Within(1e-5 * dense.Value));
            Assert.That(low.MatrixNorm, Is.EqualTo(TopSingular.FrobeniusNorm(product)).Within(1e-5 * low.MatrixNorm));
            float sign = MathF.Sign(low.U.Zip(dense.U, (x, y) => x * y).Sum());
            Assert.That(low.U.Select(x => sign * x), Is.EqualTo(dense.U).Within(1e-3));
            Assert.That(low.V.Select(x => sign * x), Is.EqualTo(dense.V).Within(1e-3));
        }
        var zero = LowRankTopSingular.Compute(new float[rows * rank], a, rows, cols, rank, 1.5);
        Assert.That((zero.Value, zero.MatrixNorm), Is.EqualTo((0f, 0f)), "a fresh LoRA (B = 0) has no update");
    }

    /// <summary>Sets a field of every checkpoint's adapter_config.json in a copied series.</summary>
    private static void SetConfig(string root, string field, JsonNode value)
    {
        foreach (long s in Steps)
        {
            string config = Path.Combine(root, $"checkpoint-{s}", AdapterConfig.FileName);
            var json = JsonNode.Parse(File.ReadAllText(config))!;
            json[field] = value.DeepClone();
            File.WriteAllText(config, json.ToJsonString());
        }
    }

    [Test]
    public void Lora_RsLora_ScalesTheMergeByAlphaOverTheSquareRootOfR()
    {
        string root = CopySeries(), output = Temp["merged"], json = Temp["report.json"], baseFolder = Path.Combine(Fixtures, "base-f32");
        SetConfig(root, "use_rslora", true);

        var (exit, _, error) = CliHarness.Run(["predict", .. Series(root, baseFolder), "--target-step", "60", "--merge-into", baseFolder, "--out", output, "--json", json]);

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That((double)JsonNode.Parse(File.ReadAllText(json))!["adapter"]!["scale"]!, Is.EqualTo(8 / Math.Sqrt(4)));
        // The same factors as the reference's velocity adapter, merged with scale 4 instead of 2.
        using var adapter = Checkpoint.OpenFile(Path.Combine(Fixtures, "expected"), "f32-velocity-step60.safetensors");
        using var model = Checkpoint.Open(baseFolder);
        using var merged = Checkpoint.Open(output);
        const string q = "model.layers.0.self_attn.q_proj";
        var expected = Read(model, q + ".weight");
        LoraPredict.MergeInto(expected, Read(adapter, $"{AdapterSeries.KeyPrefix}{q}.lora_B.weight"), Read(adapter, $"{AdapterSeries.KeyPrefix}{q}.lora_A.weight"), 24, 16, 4, 4.0);
        Assert.That(Read(merged, q + ".weight"), Is.EqualTo(expected));
    }

    /// <summary>A copy of the F32 series whose adapter files also hold a module saved whole (modules_to_save), the final
    /// norm, at 1 + 0.001·step·(k + 1) for element k: a straight path, so its velocity prediction is exact.</summary>
    private string SeriesWithAModuleSavedWhole()
    {
        string root = CopySeries();
        SetConfig(root, "modules_to_save", new JsonArray("norm"));
        foreach (long s in Steps)
        {
            string file = Path.Combine(root, $"checkpoint-{s}", AdapterConfig.WeightsFileName);
            List<(string, SafetensorsDType, long[], float[])> tensors;
            using (var adapter = Checkpoint.OpenFile(Path.GetDirectoryName(file)!, AdapterConfig.WeightsFileName))
                tensors = adapter.TensorNames.Select(n => (n, adapter.Tensor(n).Info.DType, adapter.Tensor(n).Info.Shape, Read(adapter, n))).ToList();
            tensors.Add((AdapterSeries.KeyPrefix + "model.norm.weight", SafetensorsDType.F32, [16], Enumerable.Range(0, 16).Select(k => (float)(1 + 0.001 * s * (k + 1))).ToArray()));
            SafetensorsFile.Write(file, tensors);
        }
        return root;
    }

    [Test]
    public void Lora_ModuleSavedWhole_IsExtrapolated_AndReplacesTheBaseTensorInTheMerge()
    {
        string root = SeriesWithAModuleSavedWhole(), output = Temp["merged"], baseFolder = Path.Combine(Fixtures, "base-f32");

        var (exit, _, error) = CliHarness.Run(["predict", .. Series(root, baseFolder), "--target-step", "60", "--merge-into", baseFolder, "--out", output]);

        Assert.That(exit, Is.EqualTo(0), error);
        using var merged = Checkpoint.Open(output);
        using var reference = Checkpoint.OpenFile(Path.Combine(Fixtures, "expected"), "f32-merged-step60.safetensors");
        Assert.That(Read(merged, "model.norm.weight"), Is.EqualTo(Enumerable.Range(0, 16).Select(k => 1 + 0.06 * (k + 1))).Within(1e-6));
        foreach (string name in new[] { "model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.v_proj.weight", "model.embed_tokens.weight" })
            Assert.That(Raw(merged, name), Is.EqualTo(Raw(reference, name)), name);
    }

    [Test]
    public void Lora_Direction_IsRejected_WhenTheAdapterHoldsAModuleSavedWhole()
    {
        string root = SeriesWithAModuleSavedWhole(), output = Temp["out"];

        var (exit, _, error) = CliHarness.Run(["predict", .. Series(root, Path.Combine(Fixtures, "base-f32")), "--target-step", "60", "--method", "direction", "--out", output]);

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(error, Does.Contain("model.norm.weight").And.Contain("--method velocity"));
        Assert.That(Directory.Exists(output), Is.False);
    }

    [Test]
    public void Lora_RecordOnAnAdapterFolder_SaysItIsAnAdapter()
    {
        string adapter = Path.Combine(Fixtures, "f32", "checkpoint-10");

        var (exit, _, error) = CliHarness.Run("record", adapter, "--step", "10", "--store", Temp["store"], "--base", Path.Combine(Fixtures, "base-f32"));

        Assert.That(exit, Is.EqualTo(1), error);
        Assert.That(error, Does.Contain("LoRA adapter").And.Contain("need full checkpoints"));
    }

    [Test]
    public void Lora_MismatchedConfigs_AreRejected_NamingTheField_AndNothingIsWritten()
    {
        string root = CopySeries(), output = Temp["out"];
        string config = Path.Combine(root, "checkpoint-30", AdapterConfig.FileName);
        var json = JsonNode.Parse(File.ReadAllText(config))!;
        json["lora_alpha"] = 16;
        File.WriteAllText(config, json.ToJsonString());

        var (exit, _, error) = CliHarness.Run(["predict", .. Series(root, Path.Combine(Fixtures, "base-f32")), "--target-step", "60", "--out", output]);

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(error, Does.Contain("lora_alpha = 16").And.Contain("lora_alpha = 8").And.Contain("checkpoint-30"));
        Assert.That(Directory.Exists(output), Is.False);
    }

    [Test]
    public void Lora_MissingAdapterFile_IsRejected_NamingTheFolder()
    {
        string root = CopySeries(), output = Temp["out"];
        File.Delete(Path.Combine(root, "checkpoint-20", AdapterConfig.WeightsFileName));

        var (exit, _, error) = CliHarness.Run(["predict", .. Series(root, Path.Combine(Fixtures, "base-f32")), "--target-step", "60", "--out", output]);

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(error, Does.Contain("checkpoint-20").And.Contain($"no {AdapterConfig.WeightsFileName}"));
        Assert.That(Directory.Exists(output), Is.False);
    }

    [Test]
    public void Lora_PerModuleRankPattern_IsRejected_AsNotSupported()
    {
        string root = CopySeries();
        foreach (long s in Steps)
        {
            string config = Path.Combine(root, $"checkpoint-{s}", AdapterConfig.FileName);
            var json = JsonNode.Parse(File.ReadAllText(config))!;
            json["rank_pattern"] = new JsonObject { ["q_proj"] = 8 };
            File.WriteAllText(config, json.ToJsonString());
        }

        var (exit, _, error) = CliHarness.Run(["analyze", .. Series(root, Path.Combine(Fixtures, "base-f32"))]);

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(error, Does.Contain("rank_pattern").And.Contain("not supported"));
    }

    [Test]
    public void Lora_Rank1Method_IsRejected_AsAUsageError()
    {
        var (exit, _, error) = CliHarness.Run(PredictArgs("f32", Temp["out"], "--method", "rank1"));

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("--method rank1").And.Contain("velocity"));
        Assert.That(Directory.Exists(Temp["out"]), Is.False);
    }

    [Test]
    public void Lora_SeriesMixingAdaptersAndFullCheckpoints_IsAUsageError()
    {
        string[] args = ["predict", "--base", Path.Combine(Fixtures, "base-f32"), "--checkpoint", $"10:{Path.Combine(Fixtures, "f32", "checkpoint-10")}",
            "--checkpoint", $"20:{Path.Combine(Fixtures, "base-f32")}", "--target-step", "60", "--out", Temp["out"]];

        var (exit, _, error) = CliHarness.Run(args);

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("adapter folder").And.Contain("full checkpoints only"));
    }

    [Test]
    public void Lora_MergeIntoOnASeriesOfFullCheckpoints_IsAUsageError()
    {
        string full = Path.Combine(Fixtures, "base-f32");

        var (exit, _, error) = CliHarness.Run("predict", "--base", full, "--checkpoint", $"10:{full}", "--target-step", "20", "--method", "direction",
            "--merge-into", full, "--out", Temp["out"]);

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("--merge-into applies to a series of LoRA adapter folders"));
    }

    [Test]
    public void Lora_MergeIntoABaseWithoutTheTargetWeights_IsRejected_AndNothingIsWritten()
    {
        string other = Temp["other-base"], output = Temp["out"];
        Directory.CreateDirectory(other);
        SafetensorsFile.Write(Path.Combine(other, Checkpoint.SingleFileName), [("model.norm.weight", SafetensorsDType.F32, [16], new float[16])]);

        var (exit, _, error) = CliHarness.Run(PredictArgs("f32", output, "--merge-into", other));

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(error, Does.Contain("--merge-into").And.Contain("model.layers.0.self_attn.q_proj.weight"));
        Assert.That(Directory.Exists(output), Is.False);
    }

    /// <summary>An F32 adapter series at steps 10 and 20 with q_proj only, every weight of lora_A and lora_B set to
    /// the given value at each step, and the fixtures' config; returns its checkpoint arguments.</summary>
    private string[] ConstantSeries(float a10, float a20, float b)
    {
        var args = new List<string>();
        foreach (var (step, a) in new[] { (10L, a10), (20L, a20) })
        {
            string folder = Temp[$"series/checkpoint-{step}"];
            Directory.CreateDirectory(folder);
            File.Copy(Path.Combine(Fixtures, "f32", "checkpoint-10", AdapterConfig.FileName), Path.Combine(folder, AdapterConfig.FileName));
            const string prefix = "base_model.model.model.layers.0.self_attn.q_proj.";
            SafetensorsFile.Write(Path.Combine(folder, AdapterConfig.WeightsFileName),
            [
                (prefix + "lora_A.weight", SafetensorsDType.F32, [4, 16], Enumerable.Repeat(a, 64).ToArray()),
                (prefix + "lora_B.weight", SafetensorsDType.F32, [24, 4], Enumerable.Repeat(b, 96).ToArray()),
            ]);
            args.AddRange(["--checkpoint", $"{step}:{folder}"]);
        }
        return [.. args];
    }

    [Test]
    public void Lora_PredictionBeyondTheFloatRange_IsAnError_AndNothingIsWritten()
    {
        string output = Temp["out"];
        var series = ConstantSeries(1e37f, 2e37f, 1f);

        var (exit, _, error) = CliHarness.Run(["predict", "--base", Path.Combine(Fixtures, "base-f32"), .. series, "--target-step", "1000", "--out", output]);

        Assert.That(exit, Is.EqualTo(1), error);
        Assert.That(error, Does.Contain("lora_A.weight").And.Contain("not finite").And.Contain("Nothing was written"));
        Assert.That(Directory.GetFileSystemEntries(Temp.Path).Select(Path.GetFileName), Is.EqualTo(new[] { "series" }), "no output and no temporary folder");
    }

    [Test]
    public void Lora_MergedWeightBeyondTheFloatRange_IsAnError_AndNothingIsWritten()
    {
        // The factors are finite (and do not move), but scale·B A is about 8e40, beyond float32.
        string output = Temp["out"], baseFolder = Path.Combine(Fixtures, "base-f32");
        var series = ConstantSeries(1e20f, 1e20f, 1e20f);

        var (exit, _, error) = CliHarness.Run(["predict", "--base", baseFolder, .. series, "--target-step", "30", "--merge-into", baseFolder, "--out", output]);

        Assert.That(exit, Is.EqualTo(1), error);
        Assert.That(error, Does.Contain("q_proj.weight").And.Contain("not finite").And.Contain("Nothing was written"));
        Assert.That(Directory.GetFileSystemEntries(Temp.Path).Select(Path.GetFileName), Is.EqualTo(new[] { "series" }), "no output and no temporary folder");
    }
}
