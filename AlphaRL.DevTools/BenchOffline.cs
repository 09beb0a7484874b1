using System.CommandLine;
using System.Diagnostics;
using AlphaRl.Checkpoints;
using AlphaRl.Cli;
using AlphaRl.Linalg;
using Spectre.Console;

namespace AlphaRl.DevTools;

/// <summary>
/// <c>alpharl-dev bench-offline</c>: generates a synthetic series (base + N checkpoints, BF16 by default) and times,
/// side by side, reading every input tensor once into floats against a full <c>predict</c>, reporting medians and the
/// process's peak resident memory (VmHWM). With <c>--record-floor</c> it times instead, in this one process, the parts
/// of recording the last checkpoint: reading W0 and W_t of every covered matrix, and the top-triplet kernel on them with
/// record's settings (iterated to the tolerance from the previous checkpoint's v) and with a single pass.
/// </summary>
internal static class BenchOffline
{
    public static Command Command(IAnsiConsole console, TextWriter error)
    {
        var dir = new Option<string>("--dir") { Description = "Work folder: the series is generated there unless present.", Required = true };
        var layers = new Option<int>("--layers") { DefaultValueFactory = _ => 8 };
        var hidden = new Option<int>("--hidden") { DefaultValueFactory = _ => 1024 };
        var intermediate = new Option<int>("--intermediate") { DefaultValueFactory = _ => 4096 };
        var vocab = new Option<int>("--vocab") { DefaultValueFactory = _ => 4096 };
        var checkpoints = new Option<int>("--checkpoints") { DefaultValueFactory = _ => 6 };
        var runs = new Option<int>("--runs") { DefaultValueFactory = _ => 3 };
        var recordFloor = new Option<bool>("--record-floor") { Description = "Time the parts of a record of the last checkpoint (read, kernel) instead of predict." };
        var json = new Option<string?>("--json") { Description = "With --record-floor: also write the medians (seconds) to this JSON file." };
        var command = new Command("bench-offline", "Time predict against reading all inputs once on a synthetic series.");
        foreach (var o in new Option[] { dir, layers, hidden, intermediate, vocab, checkpoints, runs, recordFloor, json }) command.Options.Add(o);
        command.SetAction(r => AlphaRLCli.Guarded(error, () => Run(console, r.GetRequiredValue(dir),
            new SyntheticModel(r.GetValue(layers), r.GetValue(hidden), r.GetValue(intermediate), r.GetValue(vocab), SafetensorsDType.BF16),
            r.GetValue(checkpoints), r.GetValue(runs), r.GetValue(recordFloor), r.GetValue(json))));
        return command;
    }

    private static void Run(IAnsiConsole console, string dir, SyntheticModel model, int count, int runs, bool recordFloor, string? json)
    {
        var steps = Enumerable.Range(1, count).Select(i => (long)(10 * i)).ToList();
        if (!Directory.Exists(SyntheticSeries.Folder(dir, 0)))
        {
            var sw = Stopwatch.StartNew();
            SyntheticSeries.Write(dir, model, steps);
            console.WriteLine($"Generated base + {count} checkpoints in {sw.Elapsed.TotalSeconds:0.0} s under {dir}.");
        }
        if (runs <= 0) return; // --runs 0: only write the series (for benchmarks/offline-store.sh)
        if (recordFloor)
        {
            RecordFloor(console, dir, steps, runs, json);
            return;
        }
        var folders = steps.Select(s => new StepFolder(s, SyntheticSeries.Folder(dir, s))).ToList();
        long inputBytes = folders.Select(f => f.Directory).Prepend(SyntheticSeries.Folder(dir, 0))
            .SelectMany(Directory.EnumerateFiles).Where(f => f.EndsWith(".safetensors", StringComparison.Ordinal)).Sum(f => new FileInfo(f).Length);

        var quiet = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null), Interactive = InteractionSupport.No });
        var read = new List<double>();
        var predict = new List<double>();
        ReadAll(dir, steps); // warm the page cache so that both measurements read from memory
        for (int i = 0; i < runs; i++)
        {
            var sw = Stopwatch.StartNew();
            ReadAll(dir, steps);
            read.Add(sw.Elapsed.TotalSeconds);

            string output = Path.Combine(dir, $"predicted-{i}");
            if (Directory.Exists(output)) Directory.Delete(output, true);
            sw.Restart();
            Predict.Run(new PredictOptions(new SeriesOptions(SyntheticSeries.Folder(dir, 0), folders), steps[^1] * 3, output), quiet);
            predict.Add(sw.Elapsed.TotalSeconds);
            Directory.Delete(output, true);
        }
        double r = Median(read), p = Median(predict);
        var table = new Table().AddColumn("measure").AddColumn(new TableColumn("median (s)").RightAligned()).AddColumn("runs (s)");
        table.AddRow("read all inputs once", $"{r:0.000}", string.Join(" ", read.Select(x => x.ToString("0.000"))));
        table.AddRow("predict", $"{p:0.000}", string.Join(" ", predict.Select(x => x.ToString("0.000"))));
        console.Write(table);
        console.WriteLine($"Model: {model.Layers} layers, d={model.Hidden}, ff={model.Intermediate}, vocab={model.Vocab}, {model.DType}; base + {count} checkpoints, {inputBytes / 1e6:0} MB of safetensors.");
        console.WriteLine($"predict / read-once = {p / r:0.00}x; peak resident memory of this process (VmHWM) = {PeakRssMegabytes():0} MB.");
    }

    /// <summary>The baseline: every tensor of every input read once into floats (non-float tensors as raw bytes).</summary>
    private static void ReadAll(string dir, IReadOnlyList<long> steps)
    {
        float[] buffer = [];
        foreach (long step in steps.Prepend(0L))
        {
            using var checkpoint = Checkpoint.Open(SyntheticSeries.Folder(dir, step));
            foreach (string name in checkpoint.TensorNames)
            {
                var t = checkpoint.Tensor(name);
                if (buffer.Length < t.Info.ElementCount) buffer = new float[t.Info.ElementCount];
                t.ReadFloats(buffer);
            }
        }
    }

    /// <summary>
    /// What a record of the last checkpoint cannot avoid, timed apart in one warm process (no start-up, no JIT, no
    /// store): reading W0 and W_t of every covered matrix in their stored form (<see cref="StoredWeights"/>, as record
    /// reads them), then the kernel on the difference with record's settings (<see cref="PowerIterationOptions.Converged"/>,
    /// warm-started from the converged v of the checkpoint before) and with one pass, whose error against the
    /// converged triplet is reported too. BF16 series only (the one this command writes).
    /// </summary>
    private static void RecordFloor(IAnsiConsole console, string dir, IReadOnlyList<long> steps, int runs, string? json)
    {
        using var w0 = Checkpoint.Open(SyntheticSeries.Folder(dir, 0));
        using var previous = Checkpoint.Open(SyntheticSeries.Folder(dir, steps[^2]));
        using var last = Checkpoint.Open(SyntheticSeries.Folder(dir, steps[^1]));
        var selection = new MatrixSelection();
        var names = w0.TensorNames.Where(n => w0.Tensor(n).Info.DType == SafetensorsDType.BF16 && selection.Covers(w0.Tensor(n).Info)).ToList();
        var start = new Dictionary<string, float[]>();
        StoredWeights current = new(), initial = new();
        foreach (string n in names) // the warm starts, as the store holds them (untimed)
        {
            var (rows, cols) = Shape(w0.Tensor(n));
            current.Read(previous.Tensor(n));
            initial.Read(w0.Tensor(n));
            start[n] = TopSingular.ComputeOfDifferenceBFloat16(current.Bits, initial.Bits, rows, cols, default, PowerIterationOptions.Converged).V;
        }
        var read = new List<double>();
        var converged = new List<double>();
        var onePass = new List<double>();
        var passes = new List<int>();
        double worstValue = 0, worstAngle = 0;
        var onePassOptions = new PowerIterationOptions { WarmPasses = 1 };
        for (int run = 0; run < runs; run++)
        {
            double r = 0, c = 0, o = 0;
            foreach (string n in names)
            {
                var (rows, cols) = Shape(w0.Tensor(n));
                var sw = Stopwatch.StartNew();
                current.Read(last.Tensor(n));
                initial.Read(w0.Tensor(n));
                r += sw.Elapsed.TotalSeconds;
                sw.Restart();
                var truth = TopSingular.ComputeOfDifferenceBFloat16(current.Bits, initial.Bits, rows, cols, start[n], PowerIterationOptions.Converged);
                c += sw.Elapsed.TotalSeconds;
                sw.Restart();
                var one = TopSingular.ComputeOfDifferenceBFloat16(current.Bits, initial.Bits, rows, cols, start[n], onePassOptions);
                o += sw.Elapsed.TotalSeconds;
                if (run > 0) continue;
                passes.Add(truth.Iterations);
                worstValue = Math.Max(worstValue, Math.Abs((double)one.Value - truth.Value) / truth.Value);
                worstAngle = Math.Max(worstAngle, Angle(one.V, truth.V));
            }
            read.Add(r);
            converged.Add(c);
            onePass.Add(o);
        }
        var table = new Table().AddColumn("part of a record").AddColumn(new TableColumn("median (s)").RightAligned()).AddColumn("runs (s)");
        table.AddRow("read W0 and W_t of every covered matrix", $"{Median(read):0.000}", string.Join(" ", read.Select(x => x.ToString("0.000"))));
        table.AddRow($"kernel, record's settings ({passes.Min()}-{passes.Max()} passes)", $"{Median(converged):0.000}", string.Join(" ", converged.Select(x => x.ToString("0.000"))));
        table.AddRow("kernel, one pass", $"{Median(onePass):0.000}", string.Join(" ", onePass.Select(x => x.ToString("0.000"))));
        console.Write(table);
        console.WriteLine($"{names.Count} covered matrices of step {steps[^1]}, warm-started from step {steps[^2]}. One pass against record's triplet: " +
            $"worst |s1 - s1*| / s1* = {worstValue:0.0e0}, worst angle(v, v*) = {worstAngle:0.0e0} rad.");
        if (json is not null)
            File.WriteAllText(json, new System.Text.Json.Nodes.JsonObject
            {
                ["runs"] = runs,
                ["covered_matrices"] = names.Count,
                ["read_seconds_median"] = Median(read),
                ["kernel_seconds_median"] = Median(converged),
                ["kernel_one_pass_seconds_median"] = Median(onePass),
            }.ToJsonString() + "\n");
    }

    private static (int Rows, int Cols) Shape(CheckpointTensor t) => ((int)t.Info.Shape[0], (int)t.Info.Shape[1]);

    /// <summary>The angle between the lines of two vectors, in double (a float dot of unit vectors cannot resolve it).</summary>
    private static double Angle(float[] x, float[] y)
    {
        double dot = 0, xx = 0, yy = 0;
        for (int i = 0; i < x.Length; i++) { dot += (double)x[i] * y[i]; xx += (double)x[i] * x[i]; yy += (double)y[i] * y[i]; }
        double sign = dot < 0 ? -1 : 1, distance = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double d = sign * x[i] / Math.Sqrt(xx) - y[i] / Math.Sqrt(yy);
            distance += d * d;
        }
        return 2 * Math.Asin(Math.Min(1, Math.Sqrt(distance) / 2));
    }

    private static double Median(List<double> xs)
    {
        var s = xs.Order().ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }

    internal static double PeakRssMegabytes()
    {
        const string path = "/proc/self/status";
        if (!File.Exists(path)) return double.NaN;
        string? line = File.ReadLines(path).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? double.NaN : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
    }
}
