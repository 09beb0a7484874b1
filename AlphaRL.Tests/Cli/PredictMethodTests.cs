using System.Security.Cryptography;
using AlphaRl.Checkpoints;
using AlphaRl.Cli;
using AlphaRl.DevTools;
using System.Text.Json;
using AlphaRl.Tests.Checkpoints;

namespace AlphaRl.Tests.Cli;

public class PredictMethodTests : TempFolderTests
{
    private static readonly long[] Steps = [10, 20, 30, 40];

    /// <summary>SHA-256 over the names and bytes of every file of a folder, in name order.</summary>
    private static string FolderHash(string folder) => Convert.ToHexString(SHA256.HashData(
        Directory.GetFiles(folder).Order(StringComparer.Ordinal)
            .SelectMany(f => System.Text.Encoding.UTF8.GetBytes(Path.GetFileName(f)).Concat(File.ReadAllBytes(f))).ToArray()));

    // Computed with the predict command as it was before --method rank1|velocity|direction existed (commit dba280e).
    private const string Rank1GoldenHash = "4A9A240430472CA3371012E378911B324BBE2E52A39F00DEAFDAE44AB5F374DD";

    [Test]
    public void Rank1_DefaultOutput_IsByteIdentical_ToTheOutputBeforeTheMethodOptionExisted()
    {
        SyntheticSeries.Write(Temp.Path, new SyntheticModel(1, 8, 12, 6, SafetensorsDType.BF16, Shards: 2), Steps, seed: 3, noise: 2e-3f);
        string output = Temp["default"];

        var (exit, _, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 100, output, "--force"));

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(FolderHash(output), Is.EqualTo(Rank1GoldenHash));
    }

    [Test]
    public void Rank1_GivenExplicitly_WritesTheSameBytes_AsTheDefault()
    {
        SyntheticSeries.Write(Temp.Path, new SyntheticModel(1, 8, 12, 6, SafetensorsDType.BF16, Shards: 2), Steps, seed: 3, noise: 2e-3f);

        var a = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 100, Temp["default"], "--force"));
        var b = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 100, Temp["rank1"], "--method", "rank1", "--form", "increment", "--force"));

        Assert.That((a.Exit, b.Exit), Is.EqualTo((0, 0)), a.Error + b.Error);
        Assert.That(FolderHash(Temp["rank1"]), Is.EqualTo(FolderHash(Temp["default"])).And.EqualTo(Rank1GoldenHash));
    }

    [Test]
    public void Velocity_WithAllTensors_IsExact_OnASeriesLinearInEveryWeight()
    {
        // Without noise, the synthetic path is linear in the step in every weight: covered matrices along t·b vᵀ, the rest by a constant drift.
        var model = new SyntheticModel(2, 8, 12, 6, SafetensorsDType.F32);
        SyntheticSeries.Write(Temp.Path, model, Steps, Seed, noise: 0f);
        string output = Temp["o"];

        var (exit, text, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 100, output, "--method", "velocity", "--all-tensors"));

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(text, Does.Contain("cos(b, W_e − W_s)").And.Contain("all float tensors"));
        using var predicted = Checkpoint.Open(output);
        foreach (var (name, shape) in SyntheticSeries.Tensors(model))
        {
            var truth = SyntheticSeries.Weights(model, Seed, name, shape, 100, noise: 0f, rate: 1e-3f);
            Assert.That(MaxAbs(Read(predicted, name), truth), Is.LessThan(1e-6), name);
        }
    }

    [Test]
    public void Velocity_WithoutAllTensors_JumpsTheCoveredMatrices_AndCopiesTheOthersFromTheLastCheckpoint()
    {
        var model = new SyntheticModel(1, 8, 12, 6, SafetensorsDType.BF16);
        SyntheticSeries.Write(Temp.Path, model, Steps, Seed, noise: 0f);
        string output = Temp["o"];

        var (exit, _, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 100, output, "--method", "velocity"));

        Assert.That(exit, Is.EqualTo(0), error);
        using var predicted = Checkpoint.Open(output);
        using var last = Checkpoint.Open(SyntheticSeries.Folder(Temp.Path, 40));
        foreach (var (name, shape) in SyntheticSeries.Tensors(model))
        {
            if (SyntheticSeries.IsCovered(name))
            {
                var truth = SyntheticSeries.Weights(model, Seed, name, shape, 100, noise: 0f, rate: 1e-3f);
                Assert.That(MaxAbs(Read(predicted, name), truth), Is.LessThan(1e-2 * truth.Max(Math.Abs)), $"{name} (bf16)");
                Assert.That(MaxAbs(Read(last, name), truth), Is.GreaterThan(2e-2 * truth.Max(Math.Abs)), $"{name}: the jump is not trivial");
            }
            else
            {
                Assert.That(Read(predicted, name), Is.EqualTo(Read(last, name)), $"{name} is copied from the last checkpoint");
            }
        }
    }

    [Test]
    public void Velocity_ProcessesLargeTensorsInSlices_WithTheSameResult()
    {
        var model = new SyntheticModel(1, 8, 12, 6, SafetensorsDType.F32);
        SyntheticSeries.Write(Temp.Path, model, Steps, Seed, noise: 1e-3f);
        using var whole = new OutputOf(Temp.Path, Steps, model, sliceElements: 1 << 20);
        using var sliced = new OutputOf(Temp.Path, Steps, model, sliceElements: 7);

        foreach (var (name, _) in SyntheticSeries.Tensors(model))
            Assert.That(sliced.Values[name], Is.EqualTo(whole.Values[name]), name);
    }

    [Test]
    public void Direction_WithAllTensors_IsExact_OnASeriesW0PlusTTimesB()
    {
        var model = new SyntheticModel(2, 8, 12, 6, SafetensorsDType.F32);
        SyntheticSeries.Write(Temp.Path, model, Steps, Seed, noise: 0f);
        string output = Temp["o"];

        var (exit, _, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 130, output, "--method", "direction", "--all-tensors"));

        Assert.That(exit, Is.EqualTo(0), error);
        using var predicted = Checkpoint.Open(output);
        foreach (var (name, shape) in SyntheticSeries.Tensors(model))
        {
            var truth = SyntheticSeries.Weights(model, Seed, name, shape, 130, noise: 0f, rate: 1e-3f);
            Assert.That(MaxAbs(Read(predicted, name), truth), Is.LessThan(1e-6), name);
        }
    }

    [Test]
    public void Direction_UsesOnlyTheBaseAndTheLastCheckpoint()
    {
        // One checkpoint is enough: W_e + (T − e)/(e − base)·(W_e − W0).
        var model = new SyntheticModel(1, 8, 12, 6, SafetensorsDType.F32);
        SyntheticSeries.Write(Temp.Path, model, [40], Seed, noise: 5e-3f);
        string output = Temp["o"];

        var (exit, _, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, [40], 60, output, "--method", "direction"));

        Assert.That(exit, Is.EqualTo(0), error);
        using var predicted = Checkpoint.Open(output);
        using var last = Checkpoint.Open(SyntheticSeries.Folder(Temp.Path, 40));
        using var w0 = Checkpoint.Open(SyntheticSeries.Folder(Temp.Path, 0));
        string q = "model.layers.0.self_attn.q_proj.weight";
        var expected = Read(last, q).Zip(Read(w0, q), (we, b) => (float)(we + 0.5 * ((double)we - b))).ToArray();
        Assert.That(Read(predicted, q), Is.EqualTo(expected).Within(1e-8));
    }

    [Test]
    public void Lengths_WriteOneCandidateFolderPerLength_UnderOut_WithW_eItselfAtLengthZero()
    {
        var model = new SyntheticModel(1, 8, 12, 6, SafetensorsDType.BF16, Shards: 2);
        SyntheticSeries.Write(Temp.Path, model, Steps, Seed, noise: 2e-3f);
        string output = Temp["candidates"], json = Temp["report.json"];

        var (exit, text, error) = CliHarness.Run(LengthArgs(output, "0,0.5,1,2", "--json", json, "--force"));
        var single = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 100, Temp["single"], "--force"));

        Assert.That((exit, single.Exit), Is.EqualTo((0, 0)), error + single.Error);
        // L = 40 − 10 = 30: targets 40, 55, 70 and 100.
        Assert.That(Directory.GetDirectories(output).Select(Path.GetFileName), Is.EquivalentTo(new[] { "j0-step40", "j0.5-step55", "j1-step70", "j2-step100" }));
        Assert.That(Directory.GetFiles(output), Is.Empty);
        foreach (string folder in Directory.GetDirectories(output))
            Assert.That(Directory.GetFiles(folder).Select(Path.GetFileName).Order(),
                Is.EqualTo(Directory.GetFiles(SyntheticSeries.Folder(Temp.Path, 40)).Select(Path.GetFileName).Order()), "config, tokenizer, index and shards");
        Assert.That(FolderHash(Path.Combine(output, "j0-step40")), Is.EqualTo(FolderHashOfWeights(SyntheticSeries.Folder(Temp.Path, 40), Path.Combine(output, "j0-step40"))), "j = 0 is W_e, byte for byte");
        Assert.That(FolderHash(Path.Combine(output, "j2-step100")), Is.EqualTo(FolderHash(Temp["single"])), "each candidate is what --target-step writes");
        Assert.That(text, Does.Contain("j0.5-step55").And.Contain("4 candidates"));
        Assert.That(Directory.GetDirectories(Temp.Path).Where(d => Path.GetFileName(d).StartsWith('.')), Is.Empty, "no temporary folder left");
        using var report = JsonDocument.Parse(File.ReadAllText(json));
        Assert.That(report.RootElement.GetProperty("jump").GetString(), Is.EqualTo("rank1"));
        Assert.That(report.RootElement.GetProperty("window_length").GetInt64(), Is.EqualTo(30));
        Assert.That(report.RootElement.GetProperty("candidates").EnumerateArray().Select(c => c.GetProperty("target_step").GetInt64()), Is.EqualTo(new long[] { 40, 55, 70, 100 }));
    }

    /// <summary>A noiseless series, and the velocity candidates j = 0, 0.5, 1, 2 written unscored to Temp["grid"] to compare with.</summary>
    private (int Exit, string Output, string Error) NoiselessVelocityGrid()
    {
        SyntheticSeries.Write(Temp.Path, new SyntheticModel(1, 8, 12, 6, SafetensorsDType.F32), Steps, Seed, noise: 0f);
        return CliHarness.Run(LengthArgs(Temp["grid"], "0,0.5,1,2", "--method", "velocity"));
    }

    [Test]
    public void ScoreCommand_KeepsTheBestCandidateAsOut_AndDeletesTheRest()
    {
        var grid = NoiselessVelocityGrid();
        string output = Temp["best"], json = Temp["report.json"];
        // Peaks at j = 1; also checks that the folder arrives both as the last argument and in ALPHARL_CANDIDATE.
        string score = Script("score.sh", """
            [ "$1" = "$ALPHARL_CANDIDATE" ] || exit 9
            j=$(basename "$1"); j=${j#j}; j=${j%%-*}
            echo "scoring $1"
            awk -v j="$j" 'BEGIN { print 10 - (j - 1) * (j - 1) }'
            """);

        var (exit, text, error) = CliHarness.Run(LengthArgs(output, "0,0.5,1,2", "--method", "velocity", "--score-command", $"bash {score}", "--json", json));

        Assert.That((grid.Exit, exit), Is.EqualTo((0, 0)), grid.Error + error);
        Assert.That(FolderHash(output), Is.EqualTo(FolderHash(Path.Combine(Temp["grid"], "j1-step70"))), "--out is the j = 1 candidate itself");
        Assert.That(Directory.GetDirectories(output), Is.Empty);
        Assert.That(Directory.GetDirectories(Temp.Path).Select(Path.GetFileName).Where(n => n!.StartsWith('.') || n.StartsWith("j")), Is.Empty, "the other candidates are deleted");
        Assert.That(text, Does.Contain("kept").And.Contain("Kept j = 1 (step 70, score 10"));
        using var report = JsonDocument.Parse(File.ReadAllText(json));
        var candidates = report.RootElement.GetProperty("candidates").EnumerateArray().ToList();
        Assert.That(candidates.Select(c => c.GetProperty("score").GetDouble()), Is.EqualTo(new[] { 9, 9.75, 10, 9 }));
        Assert.That(candidates.Select(c => c.GetProperty("kept").GetBoolean()), Is.EqualTo(new[] { false, false, true, false }));
        Assert.That(report.RootElement.GetProperty("method").GetString(), Is.EqualTo("velocity"));
    }

    [Test]
    public void ScoreCommand_WithATargetStep_AlsoScoresW_e_AndSaysSo_WhenW_eIsBest()
    {
        var model = new SyntheticModel(1, 8, 12, 6, SafetensorsDType.BF16);
        SyntheticSeries.Write(Temp.Path, model, Steps, Seed, noise: 2e-3f);
        string output = Temp["best"];
        // Scores fall with the target step: stopping at W_e wins.
        string score = Script("score.sh", """
            s=$(basename "$1"); s=${s##*step}
            echo $(( 1000 - s ))
            """);

        var (exit, text, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 100, output, "--score-command", $"bash {score}", "--force"));

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(text, Does.Contain("No jump scored at least as well as W_e").And.Contain("did not help"));
        Assert.That(FolderHash(output), Is.EqualTo(FolderHashOfWeights(SyntheticSeries.Folder(Temp.Path, 40), output)), "W_e is written byte for byte");
    }

    [TestCase("0", "0", false)]
    [TestCase("0.06", "0", true)]
    [TestCase("0", "1", true)]
    [TestCase("0", "0.6", false)]
    public void ToleranceAndNoiseZ_DecideWhetherAJumpScoringBelowW_eIsKept_AsTheHooksGuard(string tolerance, string z, bool kept)
    {
        var grid = NoiselessVelocityGrid();
        Assert.That(grid.Exit, Is.EqualTo(0), grid.Error);
        // W_e scores 0.5 ± 0.05, j = 1 scores 0.45 ± 0.05, the rest 0.1: the noise margin is z · √(0.05² + 0.05²) = z · 0.0707.
        string score = Script("score.sh", """
            case "$(basename "$1")" in j0-*) echo "0.5 se=0.05";; j1-*) echo "0.45 se=0.05";; *) echo "0.1 se=0.05";; esac
            """);

        var (exit, text, error) = CliHarness.Run(LengthArgs(Temp["best"], "0,0.5,1,2", "--method", "velocity", "--score-command", $"bash {score}",
            "--tolerance", tolerance, "--noise-z", z));

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(text, kept ? Does.Contain("Kept j = 1 (step 70") : Does.Contain("No jump scored at least as well as W_e"));
    }

    [Test]
    public void Floors_AJumpThatForgetsBelowAFloor_IsNotKept_TheBestWithinTheFloorsIs()
    {
        var grid = NoiselessVelocityGrid();
        string output = Temp["best"], json = Temp["report.json"];
        // The score rises with j; format C holds up to j = 0.5 and falls below 0.98 beyond.
        string score = Script("score.sh", """
            j=$(basename "$1"); j=${j#j}; j=${j%%-*}
            awk -v j="$j" 'BEGIN { printf "%g format_c=%g other=1\n", 10 + j, (j <= 0.5 ? 0.99 : 0.9) }'
            """);

        var (exit, text, error) = CliHarness.Run(LengthArgs(output, "0,0.5,1,2", "--method", "velocity", "--score-command", $"bash {score}",
            "--floor", "format_c=0.98", "--json", json));

        Assert.That((grid.Exit, exit), Is.EqualTo((0, 0)), grid.Error + error);
        Assert.That(FolderHash(output), Is.EqualTo(FolderHash(Path.Combine(Temp["grid"], "j0.5-step55"))), "j = 0.5: the best that keeps format C");
        Assert.That(text, Does.Contain("below a floor"));
        using var report = JsonDocument.Parse(File.ReadAllText(json));
        var candidates = report.RootElement.GetProperty("candidates").EnumerateArray().ToList();
        Assert.That(candidates.Select(c => c.GetProperty("kept").GetBoolean()), Is.EqualTo(new[] { false, true, false, false }));
        Assert.That(candidates[2].GetProperty("meets_floors").GetBoolean(), Is.False);
        Assert.That(candidates[2].GetProperty("metrics").GetProperty("format_c").GetDouble(), Is.EqualTo(0.9));
    }

    [TestCase("echo 1", "printed no metric 'format_c'")]
    [TestCase("echo 1 format_c", "'format_c' after the score")]
    [TestCase("echo 1 format_c=NaN", "'format_c=NaN' after the score")]
    public void Floors_AMissingOrMalformedMetric_WritesNothing_AndExitsWith1(string print, string message)
    {
        var model = new SyntheticModel(1, 8, 12, 6, SafetensorsDType.F32);
        SyntheticSeries.Write(Temp.Path, model, Steps, Seed);
        string output = Temp["best"];
        string score = Script("score.sh", $$"""
            case "$1" in *j1-step70) {{print}} ;; *) echo 1 format_c=1 ;; esac
            """);

        var (exit, _, error) = CliHarness.Run(LengthArgs(output, "0,1,2", "--score-command", $"bash {score}", "--floor", "format_c=0.98"));

        Assert.That(exit, Is.EqualTo(1), error);
        Assert.That(error, Does.Contain("j1-step70").And.Contain(message));
        Assert.That(Directory.Exists(output), Is.False);
    }

    [TestCase("exit 7", "exit code 7")]
    [TestCase("echo not-a-number", "'not-a-number'")]
    [TestCase("echo NaN", "'NaN'")]
    public void FailingScoreCommand_LeavesNoOutput_AndExitsWith1_NamingTheCandidate(string onSecondCandidate, string message)
    {
        var model = new SyntheticModel(1, 8, 12, 6, SafetensorsDType.F32);
        SyntheticSeries.Write(Temp.Path, model, Steps, Seed);
        string output = Temp["best"];
        string score = Script("score.sh", $$"""
            case "$1" in *j1-step70) {{onSecondCandidate}} ;; *) echo 1 ;; esac
            """);

        var (exit, _, error) = CliHarness.Run(LengthArgs(output, "0,1,2", "--score-command", $"bash {score}"));

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(error, Does.StartWith("error: --score-command").And.Contain("j1-step70").And.Contain(message));
        Assert.That(Directory.Exists(output), Is.False);
        Assert.That(Directory.GetDirectories(Temp.Path).Where(d => Path.GetFileName(d).StartsWith('.')), Is.Empty, "no temporary folder left");
    }

    [Test]
    public void ScoreCommand_ThatRunsPastTheTimeout_IsStopped_AndLeavesNoOutput()
    {
        var model = new SyntheticModel(1, 8, 12, 6, SafetensorsDType.F32);
        SyntheticSeries.Write(Temp.Path, model, Steps, Seed);
        string output = Temp["best"];

        var (exit, _, error) = CliHarness.Run(LengthArgs(output, "0,1", "--score-command", "sleep 30; echo", "--score-timeout", "0.5"));

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(error, Does.Contain("timed out after 0.5 s").And.Contain("j0-step40"));
        Assert.That(Directory.Exists(output), Is.False);
    }

    [TestCase(new[] { "--lengths", "0,1", "--target-step", "100" }, "--lengths and --target-step are mutually exclusive")]
    [TestCase(new[] { "--lengths", "0,-1" }, "--lengths value '-1'")]
    [TestCase(new[] { "--lengths", "1,NaN" }, "--lengths value 'NaN'")]
    [TestCase(new[] { "--lengths", "Infinity" }, "--lengths value 'Infinity'")]
    [TestCase(new[] { "--lengths", "1,1" }, "--lengths gives 2 candidates for step 70")]
    [TestCase(new[] { "--target-step", "100", "--method", "sideways" }, "--method must be rank1, velocity, direction")]
    [TestCase(new[] { "--target-step", "100", "--all-tensors" }, "--all-tensors applies to --method velocity or direction")]
    [TestCase(new[] { "--target-step", "100", "--method", "velocity", "--form", "add-to-last" }, "--form applies to --method rank1")]
    [TestCase(new[] { "--lengths", "1", "--score-command", "echo 1", "--score-timeout", "0" }, "--score-timeout")]
    [TestCase(new[] { "--lengths", "1", "--floor", "format_c=0.98" }, "--floor needs --score-command")]
    [TestCase(new[] { "--lengths", "1", "--score-command", "echo 1", "--floor", "format_c" }, "--floor format_c: expected NAME=VALUE")]
    [TestCase(new[] { "--lengths", "1", "--score-command", "echo 1", "--floor", "c=1", "--floor", "c=2" }, "--floor c is given twice")]
    [TestCase(new string[0], "--target-step")]
    public void UsageErrors_ExitWith2_NamingTheOption_AndWriteNothing(string[] extra, string message)
    {
        SyntheticSeries.Write(Temp.Path, new SyntheticModel(1, 8, 12, 6, SafetensorsDType.F32), Steps, Seed);
        string output = Temp["o"];

        var (exit, _, error) = CliHarness.Run(["predict", "--base", SyntheticSeries.Folder(Temp.Path, 0),
            .. Steps.SelectMany(s => new[] { "--checkpoint", $"{s}:{SyntheticSeries.Folder(Temp.Path, s)}" }), "--out", output, .. extra]);

        Assert.That(exit, Is.EqualTo(2), error);
        Assert.That(error, Does.Contain(message));
        Assert.That(Directory.Exists(output), Is.False);
    }

    private const int Seed = 1;

    private static double MaxAbs(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs((double)x - y)).Max();

    private string[] LengthArgs(string output, string lengths, params string[] extra) =>
        ["predict", "--base", SyntheticSeries.Folder(Temp.Path, 0),
            .. Steps.SelectMany(s => new[] { "--checkpoint", $"{s}:{SyntheticSeries.Folder(Temp.Path, s)}" }),
            "--lengths", lengths, "--out", output, .. extra];

    private string Script(string name, string body)
    {
        string path = Temp[name];
        File.WriteAllText(path, body.ReplaceLineEndings("\n") + "\n");
        return path;
    }

    /// <summary>The hash <see cref="FolderHash"/> would give <paramref name="written"/> if its weight files were those of <paramref name="source"/>:
    /// the safetensors shards must be byte-identical, and the other files (index, config, tokenizer) are taken as written.</summary>
    private static string FolderHashOfWeights(string source, string written)
    {
        foreach (string file in Directory.GetFiles(source, "*.safetensors"))
            Assert.That(File.ReadAllBytes(Path.Combine(written, Path.GetFileName(file))), Is.EqualTo(File.ReadAllBytes(file)), Path.GetFileName(file));
        return FolderHash(written);
    }

    /// <summary>Runs the velocity jump to step 100 through <see cref="LinearJumpWriter"/> with a given slice size, keeping every written tensor.</summary>
    private sealed class OutputOf : IDisposable
    {
        private readonly TempFolder _folder = new();

        public OutputOf(string root, long[] steps, SyntheticModel model, int sliceElements)
        {
            using var series = CheckpointSeries.Open(SyntheticSeries.Folder(root, 0), 0, steps.Select(s => new StepFolder(s, SyntheticSeries.Folder(root, s))).ToList(), new MatrixSelection());
            var candidates = new List<Candidate> { new(2, 100, false) };
            var writer = new LinearJumpWriter(series, JumpMethod.Velocity, candidates, sliceElements);
            string output = _folder["o"];
            CheckpointWriter.Write(output, series.Last, (tensor, stream) =>
            {
                if (tensor.Info.DType.IsFloat()) writer.Write(tensor, [stream]);
                else tensor.File.CopyRawTo(tensor.Info, stream);
            });
            using var written = Checkpoint.Open(output);
            Values = written.TensorNames.ToDictionary(n => n, n => Read(written, n));
            Assert.That(writer.Reports.Select(r => r.Name), Is.EquivalentTo(SyntheticSeries.Tensors(model).Select(t => t.Name)));
        }

        public Dictionary<string, float[]> Values { get; }

        public void Dispose() => _folder.Dispose();
    }
}
