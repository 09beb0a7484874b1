using System.CommandLine;
using System.Diagnostics;
using AlphaRl.Checkpoints;
using AlphaRl.Cli;
using Spectre.Console;

namespace AlphaRl.DevTools;

/// <summary>The outcome of a fuzz run: how each case ended, and every case that broke the contract.</summary>
internal sealed record FuzzResult(int Cases, IReadOnlyDictionary<string, int> Outcomes, IReadOnlyList<string> Failures, TimeSpan Elapsed);

/// <summary>
/// Runs <c>predict</c>, <c>analyze</c> and <c>record</c> in-process on a small synthetic series one of whose files (the base or a
/// checkpoint) is a <see cref="HeaderFuzzer"/> mutant. The contract checked: every run returns 0, 1 or 2 (never an
/// unhandled exception); a failure prints "error: " and leaves no output or temporary folder; a success leaves a
/// complete, readable output. The fuzz tests run a few hundred cases; <c>alpharl-dev fuzz</c> runs any number.
/// </summary>
internal static class CliFuzz
{
    public static FuzzResult Run(string directory, int cases, int seed, IReadOnlyList<string> commands)
    {
        var clock = Stopwatch.StartNew();
        var model = new SyntheticModel(1, 4, 6, 3, SafetensorsDType.BF16);
        long[] steps = [10, 20, 30];
        string series = Path.Combine(directory, "series");
        if (Directory.Exists(series)) Directory.Delete(series, true);
        SyntheticSeries.Write(series, model, steps, seed: 1);
        var files = steps.Prepend(0).Select(s => Path.Combine(SyntheticSeries.Folder(series, s), Checkpoint.SingleFileName)).ToArray();
        var valid = files.Select(File.ReadAllBytes).ToArray();
        var fuzzers = valid.Select(v => new HeaderFuzzer(v)).ToArray();
        string outputs = Path.Combine(directory, "outputs");
        Directory.CreateDirectory(outputs);
        var random = new Random(seed);
        var outcomes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var failures = new List<string>();
        var quiet = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null), Interactive = InteractionSupport.No, Ansi = AnsiSupport.No });
        for (int i = 0; i < cases; i++)
        {
            string command = commands[i % commands.Count];
            int victim = random.Next(files.Length);
            byte[] mutant = fuzzers[victim].Mutate(random);
            for (int f = 0; f < files.Length; f++) File.WriteAllBytes(files[f], f == victim ? mutant : valid[f]);
            string output = Path.Combine(outputs, $"o{i}");
            long recorded = victim == 0 ? steps[0] : steps[victim - 1];
            string[] args = command == "record"
                ? ["record", SyntheticSeries.Folder(series, recorded), "--step", $"{recorded}", "--base", SyntheticSeries.Folder(series, 0), "--store", output]
                :
                [
                    command, "--base", SyntheticSeries.Folder(series, 0),
                    .. steps.SelectMany(s => new[] { "--checkpoint", $"{s}:{SyntheticSeries.Folder(series, s)}" }),
                    .. command == "predict" ? new[] { "--target-step", "50", "--out", output } : [],
                ];
            string what = $"case {i} ({command}, {Path.GetFileName(Path.GetDirectoryName(files[victim]))}: {fuzzers[victim].LastMutation})";
            var error = new StringWriter();
            int exit;
            try
            {
                exit = AlphaRLCli.Run(args, quiet, error);
            }
            catch (Exception e)
            {
                failures.Add($"{what}: unhandled {e.GetType().Name}: {e.Message}");
                Count(outcomes, $"{command}: crash");
                CleanUp(outputs);
                continue;
            }
            Count(outcomes, $"{command}: exit {exit}");
            string? broken = exit switch
            {
                0 when command == "predict" && !Readable(output) => "exit 0 but the output does not open",
                0 when command == "record" && !StoreOpens(output) => "exit 0 but the store does not open",
                0 => null,
                AlphaRLCli.InputError or AlphaRLCli.UsageError when !error.ToString().StartsWith("error: ", StringComparison.Ordinal) => $"exit {exit} without an error message",
                AlphaRLCli.InputError or AlphaRLCli.UsageError when command != "record" && Directory.Exists(output) => $"exit {exit} but an output folder was left",
                AlphaRLCli.InputError or AlphaRLCli.UsageError when command == "record" && Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any() =>
                    $"exit {exit} but the store holds files",
                AlphaRLCli.InputError or AlphaRLCli.UsageError => null,
                _ => $"exit code {exit} is not 0, 1 or 2",
            };
            if (Directory.EnumerateDirectories(outputs).Any(d => Path.GetFileName(d).StartsWith('.')))
                broken ??= "a temporary folder was left";
            if (broken is not null) failures.Add($"{what}: {broken}; {error.ToString().Trim()}");
            CleanUp(outputs);
        }
        for (int f = 0; f < files.Length; f++) File.WriteAllBytes(files[f], valid[f]);
        return new FuzzResult(cases, outcomes, failures, clock.Elapsed);
    }

    /// <summary>The command <c>fuzz</c>: the long run of the fuzz test.</summary>
    public static Command Command(IAnsiConsole console, TextWriter error)
    {
        var dir = new Option<string>("--dir") { Description = "Work folder (a small series is written there).", Required = true };
        var cases = new Option<int>("--cases") { DefaultValueFactory = _ => 10_000 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 1 };
        var commands = new Option<string[]>("--commands") { DefaultValueFactory = _ => ["predict", "analyze", "record"], AllowMultipleArgumentsPerToken = true };
        var command = new Command("fuzz", "Run predict and analyze on structurally mutated checkpoint files; exit 1 if any run broke the contract.");
        foreach (var o in new Option[] { dir, cases, seed, commands }) command.Options.Add(o);
        command.SetAction(r =>
        {
            var result = Run(r.GetRequiredValue(dir), r.GetValue(cases), r.GetValue(seed), r.GetValue(commands)!);
            foreach (var (outcome, n) in result.Outcomes) console.WriteLine($"{outcome}: {n}");
            foreach (string failure in result.Failures.Take(50)) error.WriteLine(failure);
            console.WriteLine($"{result.Cases} cases in {result.Elapsed.TotalSeconds:0.0} s; {result.Failures.Count} broke the contract.");
            return result.Failures.Count == 0 ? AlphaRLCli.Ok : AlphaRLCli.InputError;
        });
        return command;
    }

    private static bool Readable(string output)
    {
        try
        {
            using var written = Checkpoint.Open(output);
            return written.TensorNames.Count > 0;
        }
        catch (CheckpointFormatException)
        {
            return false;
        }
    }

    private static bool StoreOpens(string folder)
    {
        var store = SnapshotStore.Open(folder);
        return store.Manifest.Steps.Count == 1 && store.LoadSnapshots().Values.All(v => v.Count == 1);
    }

    private static void Count(IDictionary<string, int> outcomes, string key) => outcomes[key] = outcomes.TryGetValue(key, out int n) ? n + 1 : 1;

    private static void CleanUp(string outputs)
    {
        foreach (string d in Directory.EnumerateDirectories(outputs)) Directory.Delete(d, true);
    }
}
