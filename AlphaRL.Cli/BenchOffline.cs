using System.CommandLine;
using System.Diagnostics;
using AlphaRl.Checkpoints;
using Spectre.Console;

namespace AlphaRl.Cli;

/// <summary>
/// Hidden command <c>bench-offline</c>: generates a synthetic series (base + N checkpoints, BF16 by default) and times,
/// side by side, reading every input tensor once into floats against a full <c>predict</c>, reporting medians and the
/// process's peak resident memory (VmHWM).
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
        var command = new Command("bench-offline", "Time predict against reading all inputs once on a synthetic series.") { Hidden = true };
        foreach (var o in new Option[] { dir, layers, hidden, intermediate, vocab, checkpoints, runs }) command.Options.Add(o);
        command.SetAction(r => AlphaRlCli.Guarded(error, () => Run(console, r.GetRequiredValue(dir),
            new SyntheticModel(r.GetValue(layers), r.GetValue(hidden), r.GetValue(intermediate), r.GetValue(vocab), SafetensorsDType.BF16),
            r.GetValue(checkpoints), r.GetValue(runs))));
        return command;
    }

    private static void Run(IAnsiConsole console, string dir, SyntheticModel model, int count, int runs)
    {
        var steps = Enumerable.Range(1, count).Select(i => (long)(10 * i)).ToList();
        if (!Directory.Exists(SyntheticSeries.Folder(dir, 0)))
        {
            var sw = Stopwatch.StartNew();
            SyntheticSeries.Write(dir, model, steps);
            console.WriteLine($"Generated base + {count} checkpoints in {sw.Elapsed.TotalSeconds:0.0} s under {dir}.");
        }
        if (runs <= 0) return; // --runs 0: only write the series (for benchmarks/offline-store.sh)
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
            OfflineCommands.Predict(new PredictOptions(new SeriesOptions(SyntheticSeries.Folder(dir, 0), folders), steps[^1] * 3, output), quiet);
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
