using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace AlphaRl.Benchmarks;

/// <summary>
/// Measures every figure of <c>performance-summary.json</c> with the current code, in one run, and writes it with the
/// machine and the date: the snapshot and the top triplet against their floors (this process's own interleaved timing of
/// the BenchmarkDotNet suites' methods), the jump error and the tracker's overhead (the jump-accuracy harness), the
/// session's memory per method (also written into docs/performance.md), and the offline tool against cat and cp
/// (benchmarks/offline-store.sh on the precompiled publish of alpharl, and alpharl-dev bench-offline --record-floor).
/// </summary>
internal static class PerformanceSummary
{
    private sealed record Plan(bool Quick, int Rounds, int SvdRounds, int OfflineRuns);

    public static int Run(string root, bool quick, string? offlineDir)
    {
        var plan = quick ? new Plan(true, 15, 3, 3) : new Plan(false, 41, 7, 7);
        var started = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        string results = Path.Combine(root, "benchmarks", "results");
        string command = "dotnet run -c Release --project AlphaRL.Benchmarks -- performance-summary" + (quick ? " --quick" : "");
        string load = File.ReadAllText("/proc/loadavg").Split(' ')[0];
        var parts = new JsonObject();
        void Part(string name) => parts[name] = Math.Round(clock.Elapsed.TotalSeconds, 1);

        var (snapshot, snapshotDetails) = SnapshotRatios(plan);
        Part("snapshot_ratios_done_s");
        var (top1, top1Details) = Top1Speedup(plan);
        Part("top1_speedup_done_s");

        var memory = SessionMemoryHarness.Measure(1024);
        File.WriteAllText(Path.Combine(results, "session-memory.json"), memory.ToJsonString(Indented) + "\n");
        SessionMemoryHarness.ReplaceTable(Path.Combine(root, "docs", "performance.md"), memory);
        var velocityHost = SessionMemoryHarness.VelocityHost(1024, SessionMemoryHarness.HostSnapshots);
        File.WriteAllText(Path.Combine(results, "velocity-host.json"), velocityHost.ToJsonString(Indented) + "\n");
        Part("session_memory_done_s");

        string cache = Environment.GetEnvironmentVariable("ALPHARL_CACHE") ?? Path.Combine(root, ".alpharl-cache");
        if (JumpAccuracyHarness.Run(Path.Combine(results, "jump-accuracy.json"), cache) != 0) return 1;
        var accuracy = JsonNode.Parse(File.ReadAllText(Path.Combine(results, "jump-accuracy.json")))!;
        Part("jump_accuracy_done_s");

        var offline = Offline(root, plan, offlineDir ?? Path.Combine(Path.GetTempPath(), "alpharl-performance-summary"));
        if (offline is null) return 1;
        Part("offline_done_s");

        var off = offline["velocity_off"]!;
        var summary = new JsonObject
        {
            ["date"] = started.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
            ["machine"] = Machine(load),
            ["command"] = command,
            ["snapshot_ratio_to_floor_fp32"] = Math.Round(snapshot["Float32"], 2),
            ["snapshot_ratio_to_floor_bf16"] = Math.Round(snapshot["BFloat16"], 2),
            ["velocity_state_over_moved_bytes"] = Math.Round(SessionMemoryHarness.VelocityStateOverMovedBytes(memory, "velocity, StateOnCpu"), 2),
            ["velocity_state_over_moved_bytes_default"] = Math.Round(SessionMemoryHarness.VelocityStateOverMovedBytes(memory, "velocity"), 2),
            ["velocity_jump_error"] = velocityHost.Max(r => r!["jump_difference_over_correction"]!.GetValue<double>()),
            ["tracker_overhead_share"] = Math.Round(accuracy["tracker_overhead_share"]!.GetValue<double>(), 5),
            ["record_over_floor_cached"] = offline["record_and_floor_side_by_side"]!["ratio_of_medians"]!.GetValue<double>(),
            ["record_over_cat_base_and_checkpoint_cached"] = Math.Round(off["ratios"]!["record_over_cat_base_and_checkpoint"]!.GetValue<double>(), 2),
            ["predict_store_over_cp_cached"] = Math.Round(off["ratios"]!["predict_store_over_cp"]!.GetValue<double>(), 2),
            ["jump_error_vs_exact_svd"] = Math.Round(accuracy["jump_error_vs_exact_svd"]!.GetValue<double>(), 5),
            ["top1_speedup_vs_svd_2048"] = Math.Round(top1, 1),
            ["notes"] = Notes(plan),
            ["details"] = new JsonObject
            {
                ["snapshot_to_read_both"] = snapshotDetails,
                ["top1_vs_svd_2048"] = top1Details,
                ["session_memory"] = memory.DeepClone(),
                ["velocity_host"] = velocityHost.DeepClone(),
                ["jump_accuracy"] = new JsonObject
                {
                    ["observe_seconds_median"] = accuracy["observe_seconds_median"]!.GetValue<double>(),
                    ["train_step_seconds_median"] = accuracy["train_step_seconds_median"]!.GetValue<double>(),
                    ["snapshot_interval"] = accuracy["snapshot_interval"]!.GetValue<int>(),
                    ["tracker_overhead_share_converged"] = accuracy["tracker_overhead_share_converged"]!.GetValue<double>(),
                },
                ["offline"] = offline,
                ["seconds_per_part"] = parts,
            },
        };
        summary["seconds"] = Math.Round(clock.Elapsed.TotalSeconds);
        string path = Path.Combine(results, "performance-summary.json");
        File.WriteAllText(path, summary.ToJsonString(Indented) + "\n");
        Console.WriteLine(summary.ToJsonString(Indented));
        Console.WriteLine($"wrote {path} in {clock.Elapsed.TotalMinutes:0.0} min");
        return 0;
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Span-kernel snapshot / reading W_t and W0 once, each size with rows, cols ≥ 1024, per dtype: the worst
    /// ratio per dtype, and every ratio.</summary>
    private static (Dictionary<string, double> Worst, JsonObject Details) SnapshotRatios(Plan plan)
    {
        var worst = new Dictionary<string, double>();
        var details = new JsonObject();
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
            foreach (var size in SnapshotVsReadBoth.Sizes.Where(s => Math.Min(s.Rows, s.Cols) >= 1024))
            {
                var bench = new SnapshotVsReadBoth { Size = size, DType = dtype };
                bench.Setup();
                try
                {
                    var samples = Interleaved(plan.Rounds, bench.ReadBoth, bench.SpanSnapshot);
                    double ratio = Median(samples[1]) / Median(samples[0]);
                    // The spread of the rounds' own ratios shows how much the machine's load moved the figure.
                    var perRound = samples[1].Zip(samples[0], (a, b) => a / b).ToList();
                    details[$"{dtype}/{size}"] = new JsonObject
                    {
                        ["read_both_ms"] = Math.Round(Median(samples[0]) * 1e3, 3),
                        ["snapshot_ms"] = Math.Round(Median(samples[1]) * 1e3, 3),
                        ["ratio"] = Math.Round(ratio, 2),
                        ["ratio_per_round_min"] = Math.Round(perRound.Min(), 2),
                        ["ratio_per_round_max"] = Math.Round(perRound.Max(), 2),
                    };
                    worst[dtype.ToString()] = Math.Max(worst.GetValueOrDefault(dtype.ToString()), ratio);
                    Console.WriteLine($"snapshot / read both, {dtype} {size}: {ratio:0.00}x");
                }
                finally
                {
                    bench.Cleanup();
                }
            }
        return (worst, details);
    }

    /// <summary>Full thin SVD / warm-started top triplet at 2048x2048 fp32, and the cold start.</summary>
    private static (double Warm, JsonObject Details) Top1Speedup(Plan plan)
    {
        var bench = new TopTripletVsFullSvd { Size = new MatrixSize(2048, 2048) };
        bench.Setup();
        try
        {
            var medians = Interleaved(plan.SvdRounds, bench.FullSvd, bench.TopTripletWarm, bench.TopTripletCold).Select(Median).ToArray();
            Console.WriteLine($"full SVD / top triplet at 2048x2048: {medians[0] / medians[1]:0.0}x warm, {medians[0] / medians[2]:0.0}x cold");
            return (medians[0] / medians[1], new JsonObject
            {
                ["svd_ms"] = Math.Round(medians[0] * 1e3, 1),
                ["top_triplet_warm_ms"] = Math.Round(medians[1] * 1e3, 2),
                ["top_triplet_cold_ms"] = Math.Round(medians[2] * 1e3, 2),
                ["speedup_cold_start"] = Math.Round(medians[0] / medians[2], 1),
            });
        }
        finally
        {
            bench.Cleanup();
        }
    }

    /// <summary>Seconds per call of each method, one sample per round, the methods timed in turn in every round (one
    /// warm-up round first); a sample repeats a fast method for about 50 ms.</summary>
    private static List<double>[] Interleaved(int rounds, params Func<float>[] methods)
    {
        var repeats = methods.Select(m =>
        {
            var sw = Stopwatch.StartNew();
            m();
            return Math.Max(1, (int)(0.05 / Math.Max(sw.Elapsed.TotalSeconds, 1e-6)));
        }).ToArray();
        var samples = methods.Select(_ => new List<double>()).ToArray();
        for (int round = 0; round <= rounds; round++)
            for (int i = 0; i < methods.Length; i++)
            {
                var sw = Stopwatch.StartNew();
                for (int r = 0; r < repeats[i]; r++) methods[i]();
                if (round > 0) samples[i].Add(sw.Elapsed.TotalSeconds / repeats[i]);
            }
        return samples;
    }

    /// <summary>The middle value (the upper of the two middle values for an even count), as every ratio here takes it.</summary>
    internal static double Median(List<double> xs) => xs.Order().ElementAt(xs.Count / 2);

    /// <summary>The offline tool against cat and cp from the page cache (the 285 MB series), record with and without the
    /// velocity's sums, the precompiled publish against the build's dll, and the parts of a record in one warm process.</summary>
    private static JsonObject? Offline(string root, Plan plan, string dir)
    {
        string publish = Path.Combine(dir, "alpharl"), aot = Path.Combine(dir, "alpharl-aot");
        string dev = Path.Combine(root, "AlphaRL.DevTools", "bin", "Release", "net10.0", "AlphaRL.DevTools.dll");
        string dll = Path.Combine(root, "AlphaRL.Cli", "bin", "Release", "net10.0", "AlphaRL.Cli.dll");
        string rid = System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier;
        if (Shell(root, "dotnet", ["build", "AlphaRL.DevTools", "-c", "Release", "--nologo", "-v", "q"]) != 0 ||
            Shell(root, "dotnet", ["publish", "AlphaRL.Cli", "-c", "Release", "-r", rid, "-o", publish, "--nologo", "-v", "q"]) != 0)
            return null;
        // Native AOT where its compiler's linker is installed (clang): then it is the tool timed, beside ReadyToRun.
        bool native = OnPath("clang") &&
            Shell(root, "dotnet", ["publish", "AlphaRL.Cli", "-c", "Release", "-r", rid, "-p:PublishAot=true", "-o", aot, "--nologo", "-v", "q"]) == 0;
        string tool = native ? Path.Combine(aot, "AlphaRL.Cli") : Path.Combine(publish, "AlphaRL.Cli");
        string compare = native ? Path.Combine(publish, "AlphaRL.Cli") : "dotnet " + dll;
        string series = Path.Combine(dir, "series");
        var result = new JsonObject
        {
            ["series"] = "alpharl-dev bench-offline: 8 layers, d = 1024, ff = 4096, vocab 4096, BF16 (285 MB a checkpoint)",
            ["tool"] = (native ? "Native AOT publish (" : "ReadyToRun publish (") + tool + ")",
            ["compare"] = native ? "ReadyToRun publish (" + compare + ")" : "dotnet AlphaRL.Cli.dll (the build, JIT; clang is not installed, so no Native AOT)",
        };
        foreach (string velocity in new[] { "off", "on" })
        {
            string json = Path.Combine(dir, $"offline-velocity-{velocity}.json");
            var env = new Dictionary<string, string>
            {
                ["ALPHARL"] = tool,
                ["COMPARE"] = compare,
                ["VELOCITY"] = velocity,
                ["JSON"] = json,
            };
            if (Shell(root, "bash", [Path.Combine(root, "benchmarks", "offline-store.sh"), series, plan.OfflineRuns.ToString(CultureInfo.InvariantCulture)], env) != 0) return null;
            result[$"velocity_{velocity}"] = JsonNode.Parse(File.ReadAllText(json));
        }
        string floor = Path.Combine(dir, "record-floor.json");
        if (Shell(root, "dotnet", [dev, "bench-offline", "--dir", series, "--runs", plan.OfflineRuns.ToString(CultureInfo.InvariantCulture), "--record-floor", "--json", floor]) != 0) return null;
        result["record_floor"] = JsonNode.Parse(File.ReadAllText(floor));
        if (RecordBesideFloor(root, dev, tool, series, plan.OfflineRuns + 2) is not { } beside) return null;
        result["record_and_floor_side_by_side"] = beside;
        return result;
    }

    /// <summary>
    /// Record against its floor in alternating rounds, since the floor moves with the machine's load as much as record:
    /// each round times one record of step-60 (a process, start-up included) into a fresh copy of a rank-1 store of
    /// steps 10-50, then the floor (`bench-offline --record-floor --runs 3`: reading W0 and W_t and the kernel in one
    /// process, after an untimed warm-up read of every matrix; the median of its 3 runs); the ratio is of the medians.
    /// </summary>
    private static JsonObject? RecordBesideFloor(string root, string dev, string tool, string series, int rounds)
    {
        string store = Path.Combine(Path.GetDirectoryName(series)!, "store-rank1"), copy = store + "-copy", json = Path.Combine(Path.GetDirectoryName(series)!, "floor-round.json");
        if (Directory.Exists(store)) Directory.Delete(store, recursive: true);
        foreach (int step in new[] { 10, 20, 30, 40, 50 })
            if (Shell(root, tool, ["record", Path.Combine(series, $"step-{step}"), "--step", step.ToString(CultureInfo.InvariantCulture), "--base", Path.Combine(series, "base"), "--store", store, "--velocity", "off"]) != 0)
                return null;
        var records = new List<double>();
        var floors = new List<double>();
        for (int r = 0; r < rounds; r++)
        {
            if (Directory.Exists(copy)) Directory.Delete(copy, recursive: true);
            Directory.CreateDirectory(copy);
            foreach (var f in Directory.GetFiles(store)) File.Copy(f, Path.Combine(copy, Path.GetFileName(f)));
            var clock = Stopwatch.StartNew();
            if (Shell(root, tool, ["record", Path.Combine(series, "step-60"), "--base", Path.Combine(series, "base"), "--store", copy]) != 0) return null;
            records.Add(clock.Elapsed.TotalSeconds);
            if (Shell(root, "dotnet", [dev, "bench-offline", "--dir", series, "--runs", "3", "--record-floor", "--json", json]) != 0) return null;
            var floor = JsonNode.Parse(File.ReadAllText(json))!;
            floors.Add(floor["read_seconds_median"]!.GetValue<double>() + floor["kernel_seconds_median"]!.GetValue<double>());
        }
        return new JsonObject
        {
            ["rounds"] = rounds,
            ["record_seconds"] = new JsonArray(records.Select(x => (JsonNode)Math.Round(x, 3)).ToArray()),
            ["floor_seconds"] = new JsonArray(floors.Select(x => (JsonNode)Math.Round(x, 3)).ToArray()),
            ["ratio_of_medians"] = Math.Round(Median(records) / Median(floors), 2),
        };
    }

    private static bool OnPath(string command) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Any(d => d.Length > 0 && File.Exists(Path.Combine(d, command)));

    private static int Shell(string workingDirectory, string file, IEnumerable<string> arguments, Dictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new()) start.Environment[k] = v;
        Console.WriteLine($"$ {file} {string.Join(' ', start.ArgumentList)}");
        using var process = Process.Start(start)!;
        process.WaitForExit();
        if (process.ExitCode != 0) Console.Error.WriteLine($"{file} exited with {process.ExitCode}.");
        return process.ExitCode;
    }

    private static JsonObject Machine(string load) => new()
    {
        ["cores"] = Environment.ProcessorCount,
        ["cpu"] = ResultsSummary.CpuModel(),
        ["memory_gib"] = Math.Round(ResultsSummary.MemTotalGiB(), 1),
        ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
        ["dotnet"] = Environment.Version.ToString(),
        ["torch_threads"] = get_num_threads(),
        ["load_average_at_start"] = load,
    };

    private static JsonObject Notes(Plan plan) => new()
    {
        ["mode"] = $"{(plan.Quick ? "--quick" : "full")}: {plan.Rounds} interleaved rounds per kernel comparison, {plan.SvdRounds} for the SVD, " +
                   $"{plan.OfflineRuns} runs of each offline command; ratios are of medians measured side by side in this run.",
        ["snapshot_ratio_to_floor_fp32"] = "SnapshotVsReadBoth's methods timed here: max over 1024x1024, 2048x2048 and 4096x1024 of median(snapshot, span kernel, warm start, default settings) / median(read W_t and W0 once, a SIMD sum over both), fp32 weights; every size in details.snapshot_to_read_both, with the least and largest ratio of a single round (how far the machine's load moved it). Another branch changes this kernel: rerun after it lands.",
        ["snapshot_ratio_to_floor_bf16"] = "The same with bf16 weights (widened in the kernel).",
        ["velocity_state_over_moved_bytes"] = "Session memory harness (details.session_memory, d = 1024): the velocity's running state on the parameters' device / bytes of the tensors it moves in their dtype, worst of fp32 and bf16 parameters, with VelocityJumpOptions.StateOnCpu (the sums in host memory: 0 on the device). Not the default: with the default (sums beside the parameters, 2 float32 copies) it is velocity_state_over_moved_bytes_default, 2x for fp32 weights and 4x for bf16.",
        ["velocity_state_over_moved_bytes_default"] = "The same for the default (sums on the parameters' device).",
        ["velocity_jump_error"] = "details.velocity_host: ||jump from the StateOnCpu sums - jump from the sums on the device|| / ||jump - W_e||, the jump to 3x the window after 9 snapshots of the realistic model (8 layers, d = 1024), worst of fp32 and bf16; the same float32 operations on the CPU in both here (no GPU on this machine: with ALPHARL_BENCH_DEVICE=cuda the session-memory command measures the device against the host).",
        ["tracker_overhead_share"] = "jump-accuracy harness: median time of the session tracker's Observe (warm, default settings) / (snapshot interval x median training step) on the llm-like GRPO run (seed 1, quick plan). The speedup harness's full-mode figure (speedup.json, the session's whole overhead over the run's step time) is not rerun by this command: its full mode takes hours.",
        ["record_over_floor_cached"] = "details.offline.record_and_floor_side_by_side: alternating rounds of one record --velocity off of step-60 (the tool as details.offline.tool says: the Native AOT publish where clang is installed, else the ReadyToRun one; a process, start-up included) and the floor of a record in one warm process (alpharl-dev bench-offline --record-floor --runs 3: reading W0 and W_t of every covered matrix + the kernel with record's settings), median over median, 285 MB BF16 series, page cache warm. Side by side because the floor moves with the machine's load as much as record does.",
        ["record_over_cat_base_and_checkpoint_cached"] = "benchmarks/offline-store.sh (VELOCITY=off, ALPHARL = that tool, COMPARE = the next slower one, rows ending in -compare): median(record step-60) / median(cat base step-60), interleaved, page cache warm. With the velocity's sums (the default of a new store) in details.offline.velocity_on.",
        ["predict_store_over_cp_cached"] = "The same run: median(predict --store, rank-1 store) / median(cp -r step-60): the output is a checkpoint as large as the input.",
        ["jump_error_vs_exact_svd"] = "jump-accuracy harness: worst over the llm-like run and the synthetic trajectories of ||W_pred(tracker snapshots, default settings) - W_pred(exact SVD snapshots)|| / ||W_pred(exact) - W_e|| for the rank-1 line jump (jump-accuracy.json).",
        ["top1_speedup_vs_svd_2048"] = "TopTripletVsFullSvd's methods timed here, 2048x2048 fp32: median of torch.linalg.svd (thin) / median of TorchTopSingular warm-started from the previous snapshot's V; cold start in details.",
        ["dropped"] = "max_ratio_to_bandwidth_floor, snapshot_storage_share and the BenchmarkDotNet details of the previous summary are not measured by this command (the full BenchmarkDotNet suite and the memory command still produce them: performance.md, bdn-summary.json).",
    };
}
