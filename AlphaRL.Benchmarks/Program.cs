using System.CommandLine;
using AlphaRl.Benchmarks;
using AlphaRl.Benchmarks.Speedup;
using BenchmarkDotNet.Running;

// dotnet run -c Release --project AlphaRL.Benchmarks -- speedup [--quick] [--device cpu|cuda[:N]] [--dtype fp32|bf16]  end-to-end RL speedup benchmark
// dotnet run -c Release --project AlphaRL.Benchmarks -- --filter '*'      BenchmarkDotNet suite
// dotnet run -c Release --project AlphaRL.Benchmarks -- tuned [--quick] [--stage sweep|choose|heldout|all] [--minutes M]  tuned-baseline benchmark
// dotnet run -c Release --project AlphaRL.Benchmarks -- pretrain-base [PATH]  rebuilds the committed elicitation base
// dotnet run -c Release --project AlphaRL.Benchmarks -- memory [N]        RSS / storage per snapshot
// dotnet run -c Release --project AlphaRL.Benchmarks -- jump-accuracy     snapshot routine vs exact SVD, through the jump
// dotnet run -c Release --project AlphaRL.Benchmarks -- summary           BenchmarkDotNet results -> benchmarks/results (performance.md, bdn-summary.json)
// dotnet run -c Release --project AlphaRL.Benchmarks -- performance-summary [--quick] [--offline-dir DIR]  measures and writes performance-summary.json
// dotnet run -c Release --project AlphaRL.Benchmarks -- session-memory [WIDTH [DIR]]  a session's device memory per method and the velocity's host state -> session-memory.json, velocity-host.json and docs/performance.md (with DIR: the JSON files there, docs untouched)
string root = RepositoryRoot();
string resultsDir = Path.Combine(root, "benchmarks", "results");
switch (args.FirstOrDefault())
{
    case "speedup":
        var quick = new Option<bool>("--quick") { Description = "A few minutes on 2 cores: shorter runs; results to benchmarks/results/quick/." };
        var output = new Option<DirectoryInfo?>("--out") { Description = "Where to write the results (default: benchmarks/results, or benchmarks/results/quick)." };
        var reportOnly = new Option<bool>("--report-only") { Description = "Train nothing: rewrite the summary, report and plots from the speedup.json already in the output folder." };
        var device = new Option<string?>("--device") { Description = "cpu, cuda or cuda:N: where the policies, prompts and evaluations live (default: cuda:0 when CUDA is available, else cpu)." };
        var dtype = new Option<string>("--dtype") { Description = "fp32 or bf16: the dtype of the policies' weights.", DefaultValueFactory = _ => "fp32" };
        var speedup = new RootCommand("The end-to-end benchmark: GRPO and PPO in an LLM-like elicitation regime and a control regime, full runs vs AlphaRL, stopping early, larger learning rates and the peers.") { quick, output, reportOnly, device, dtype };
        speedup.SetAction(parse =>
        {
            bool isQuick = parse.GetValue(quick);
            string dir = parse.GetValue(output)?.FullName ?? (isQuick ? Path.Combine(resultsDir, "quick") : resultsDir);
            string cache = Environment.GetEnvironmentVariable("ALPHARL_CACHE") ?? Path.Combine(root, ".alpharl-cache");
            if (parse.GetValue(reportOnly)) return SpeedupCommand.Report(dir);
            if (SpeedupCommand.Target(parse.GetValue(device), parse.GetValue(dtype)!) is not { } target) return 2;
            return SpeedupCommand.Run(isQuick, dir, cache, "dotnet run -c Release --project AlphaRL.Benchmarks -- " + string.Join(' ', args), target);
        });
        return speedup.Parse(args[1..]).Invoke();
    case "tuned":
        return AlphaRl.Benchmarks.Tuned.TunedCommand.Invoke(args[1..], resultsDir, Environment.GetEnvironmentVariable("ALPHARL_CACHE") ?? Path.Combine(root, ".alpharl-cache"));
    case "pretrain-base":
        return PretrainBase.Run(args.Length > 1 ? args[1] : Path.Combine(root, "AlphaRL.Workloads", "Bases", AlphaRl.Workloads.Training.ElicitationBase.FileName));
    case "memory":
        return SnapshotMemoryHarness.Run(Path.Combine(resultsDir, "snapshot-memory.json"),
            args.Length > 1 ? int.Parse(args[1]) : 30);
    case "jump-accuracy":
        return JumpAccuracyHarness.Run(Path.Combine(resultsDir, "jump-accuracy.json"), Environment.GetEnvironmentVariable("ALPHARL_CACHE") ?? Path.Combine(root, ".alpharl-cache"));
    case "performance-summary":
        var quickSummary = new Option<bool>("--quick") { Description = "Fewer rounds and runs (about 10 minutes on 2 cores) instead of the full plan." };
        var offlineDir = new Option<DirectoryInfo?>("--offline-dir") { Description = "Work folder of the offline measurements (the 285 MB series and the tool's publish; default: a folder in the temp directory)." };
        var performance = new RootCommand("Measures every figure of benchmarks/results/performance-summary.json with the current code and writes it with the machine and the date.") { quickSummary, offlineDir };
        performance.SetAction(parse => PerformanceSummary.Run(root, parse.GetValue(quickSummary), parse.GetValue(offlineDir)?.FullName));
        return performance.Parse(args[1..]).Invoke();
    case "session-memory":
        return args.Length > 2
            ? SessionMemoryHarness.Run(Path.Combine(Directory.CreateDirectory(args[2]).FullName, "session-memory.json"), null, int.Parse(args[1]))
            : SessionMemoryHarness.Run(Path.Combine(resultsDir, "session-memory.json"), Path.Combine(root, "docs", "performance.md"), args.Length > 1 ? int.Parse(args[1]) : 1024);
    case "summary":
        return ResultsSummary.Run(Path.Combine(root, "BenchmarkDotNet.Artifacts", "results"), resultsDir);
    default:
        BenchmarkSwitcher.FromAssembly(typeof(Workloads).Assembly).Run(args);
        return 0;
}

static string RepositoryRoot()
{
    for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "AlphaRL.sln"))) return dir.FullName;
    return Directory.GetCurrentDirectory();
}
