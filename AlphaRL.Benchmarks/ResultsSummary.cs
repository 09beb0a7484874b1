using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AlphaRl.Benchmarks;

/// <summary>
/// Turns one BenchmarkDotNet run (its brief JSON reports) and the memory harness's JSON into
/// benchmarks/results/bdn-summary.json and performance.md (performance-summary.json is <see cref="PerformanceSummary"/>'s). Every figure is read from those files;
/// ratios are ratios of medians measured side by side in the same run.
/// </summary>
internal static class ResultsSummary
{
    private const string Command = "dotnet run -c Release --project AlphaRL.Benchmarks -- --filter '*' && " +
                                   "dotnet run -c Release --project AlphaRL.Benchmarks -- memory && " +
                                   "dotnet run -c Release --project AlphaRL.Benchmarks -- jump-accuracy && " +
                                   "dotnet run -c Release --project AlphaRL.Benchmarks -- summary";

    private sealed record Row(string Type, string Method, string Parameters, double MedianNs, long? AllocatedBytes)
    {
        public string Param(string name) =>
            Parameters.Split('&').Select(p => p.Split('=')).FirstOrDefault(p => p[0] == name)?[1] ?? "";
    }

    public static int Run(string artifactsDir, string resultsDir)
    {
        if (!Directory.Exists(artifactsDir))
        {
            Console.Error.WriteLine($"No BenchmarkDotNet results in {artifactsDir}: run the suite first (--filter '*').");
            return 1;
        }
        var reportsDir = Path.Combine(resultsDir, "bdn");
        Directory.CreateDirectory(reportsDir);
        foreach (var file in Directory.GetFiles(artifactsDir).Where(f => f.EndsWith("-report-brief.json") || f.EndsWith("-report-github.md") || f.EndsWith("-report.csv")))
            File.Copy(file, Path.Combine(reportsDir, Path.GetFileName(file)), overwrite: true);

        var rows = Directory.GetFiles(reportsDir, "*-report-brief.json").SelectMany(ReadRows).ToList();
        var memoryPath = Path.Combine(resultsDir, "snapshot-memory.json");
        var memory = File.Exists(memoryPath) ? JsonNode.Parse(File.ReadAllText(memoryPath))!.AsArray() : null;

        double? Median(string type, string method, string size, string? dtype = null) =>
            rows.FirstOrDefault(r => r.Type == type && r.Method == method && r.Param("Size") == size && (dtype is null || r.Param("DType") == dtype))?.MedianNs;
        double? Ratio(double? a, double? b) => a is null || b is null || b == 0 ? null : a / b;

        // Speedup over full SVD at 2048x2048, warm start (what the tracker runs at every snapshot after the first).
        double? svd2048 = Median(nameof(TopTripletVsFullSvd), nameof(TopTripletVsFullSvd.FullSvd), "2048x2048");
        double? speedupWarm = Ratio(svd2048, Median(nameof(TopTripletVsFullSvd), nameof(TopTripletVsFullSvd.TopTripletWarm), "2048x2048"));
        double? speedupCold = Ratio(svd2048, Median(nameof(TopTripletVsFullSvd), nameof(TopTripletVsFullSvd.TopTripletCold), "2048x2048"));

        // Ratio to the read-once floor at every size >= 1024 (rows and cols), per engine, dtype and start.
        var floor = new JsonObject();
        double? maxWarmTorch = null;
        foreach (var (type, dtypes) in new[] { (nameof(TorchTopTripletVsReadOnce), new[] { "Float32", "BFloat16" }), (nameof(SpanTopTripletVsReadOnce), new string?[] { null }!) })
            foreach (var dtype in dtypes)
                foreach (var size in Workloads.Sizes)
                    foreach (var method in new[] { "TopTripletWarm", "TopTripletCold", "TorchOpsWarm" })
                    {
                        var ratio = Ratio(Median(type, method, size.ToString(), dtype), Median(type, "ReadOnce", size.ToString(), dtype));
                        if (ratio is null) continue;
                        string key = $"{(type.StartsWith("Torch") ? "torch" : "span")}/{dtype ?? "Float32"}/{size}/{method switch { "TopTripletWarm" => "warm", "TopTripletCold" => "cold", _ => "warm, torch-ops path" }}";
                        floor[key] = Math.Round(ratio.Value, 2);
                        if (type.StartsWith("Torch") && method == "TopTripletWarm" && Math.Min(size.Rows, size.Cols) >= 1024)
                            maxWarmTorch = Math.Max(maxWarmTorch ?? 0, ratio.Value);
                    }

        // Snapshot (default settings, warm) / reading W_t and W0 once, one matrix and the realistic model, per path.
        var snapshotFloor = new JsonObject();
        double? worstSpanSnapshot = null;
        foreach (var dtype in new[] { "Float32", "BFloat16" })
            foreach (var size in SnapshotVsReadBoth.Sizes)
                foreach (var (method, path) in new[] { (nameof(SnapshotVsReadBoth.SpanSnapshot), "span kernel"), (nameof(SnapshotVsReadBoth.DeviceSnapshot), "device path") })
                {
                    var ratio = Ratio(Median(nameof(SnapshotVsReadBoth), method, size.ToString(), dtype), Median(nameof(SnapshotVsReadBoth), nameof(SnapshotVsReadBoth.ReadBoth), size.ToString(), dtype));
                    if (ratio is null) continue;
                    snapshotFloor[$"matrix/{dtype}/{size}/{path}"] = Math.Round(ratio.Value, 2);
                    if (method == nameof(SnapshotVsReadBoth.SpanSnapshot) && Math.Min(size.Rows, size.Cols) >= 1024)
                        worstSpanSnapshot = Math.Max(worstSpanSnapshot ?? 0, ratio.Value);
                }
        double? worstDeviceVsSpan = null;
        foreach (var dtype in new[] { "Float32", "BFloat16" })
            foreach (var width in new[] { "512", "1024" })
            {
                double? Model(string method) => rows.FirstOrDefault(r => r.Type == nameof(SnapshotOfRealisticModel) && r.Method == method && r.Param("DType") == dtype && r.Param("Width") == width)?.MedianNs;
                double? floorNs = Model(nameof(SnapshotOfRealisticModel.ReadOnce)), span = Model(nameof(SnapshotOfRealisticModel.Snapshot)),
                    perMatrix = Model(nameof(SnapshotOfRealisticModel.DeviceSnapshot)), device = Model(nameof(SnapshotOfRealisticModel.BatchedDeviceSnapshot));
                if (Ratio(span, floorNs) is { } a) snapshotFloor[$"model d={width}/{dtype}/span kernel"] = Math.Round(a, 2);
                if (Ratio(perMatrix, floorNs) is { } p) snapshotFloor[$"model d={width}/{dtype}/device path, per matrix"] = Math.Round(p, 2);
                if (Ratio(perMatrix, span) is { } q) snapshotFloor[$"model d={width}/{dtype}/device path, per matrix / span kernel"] = Math.Round(q, 2);
                if (Ratio(device, floorNs) is { } b) snapshotFloor[$"model d={width}/{dtype}/device path, batched"] = Math.Round(b, 2);
                // The goal's device path is the batched one: what the tracker runs off the CPU.
                if (Ratio(device, span) is { } c)
                {
                    snapshotFloor[$"model d={width}/{dtype}/device path, batched / span kernel"] = Math.Round(c, 2);
                    worstDeviceVsSpan = Math.Max(worstDeviceVsSpan ?? 0, c);
                }
            }
        var accuracyPath = Path.Combine(resultsDir, "jump-accuracy.json");
        var accuracy = File.Exists(accuracyPath) ? JsonNode.Parse(File.ReadAllText(accuracyPath)) : null;
        double? jumpError = accuracy?["jump_error_vs_exact_svd"]?.GetValue<double>();

        double? storageShare = memory?.Select(m => m!["storage_share_per_snapshot"]!.GetValue<double>()).Max();
        double? overheadShare = TrackerOverheadShare(Path.Combine(resultsDir, "speedup.json"));

        var summary = new JsonObject
        {
            ["top1_speedup_vs_svd_2048"] = Round(speedupWarm, 1),
            ["max_ratio_to_bandwidth_floor"] = Round(maxWarmTorch, 2),
            ["snapshot_storage_share"] = Round(storageShare, 5),
            ["tracker_overhead_share"] = Round(overheadShare, 4),
            ["snapshot_ratio_to_floor"] = Round(worstSpanSnapshot, 2),
            ["jump_error_vs_exact_svd"] = Round(jumpError, 5),
            ["notes"] = new JsonObject
            {
                ["snapshot_ratio_to_floor"] = "SnapshotVsReadBoth: max over sizes with rows, cols >= 1024 and over fp32/bf16 of median(snapshot, span kernel, warm start, default settings) / median(read W_t and W0 once, a SIMD sum over both); device path and the realistic model (8 layers, d = 512 and 1024) in details.snapshot_to_read_both.",
                ["jump_error_vs_exact_svd"] = "jump-accuracy harness (jump-accuracy.json): worst over the llm-like run and the synthetic trajectories of ||W_pred(tracker snapshots, default settings) - W_pred(exact SVD snapshots)|| / ||W_pred(exact) - W_e|| for the rank-1 line jump; per trajectory and pass budget in jump-accuracy.json.",
                ["top1_speedup_vs_svd_2048"] = "TopTripletVsFullSvd, 2048x2048 fp32: median of torch.linalg.svd (thin) / median of TorchTopSingular warm-started from the previous snapshot's V; cold start in details.",
                ["max_ratio_to_bandwidth_floor"] = "TorchTopTripletVsReadOnce: max over sizes with rows, cols >= 1024 and over fp32/bf16 of median(top triplet, warm start) / median(read dW once); every ratio in details.",
                ["snapshot_storage_share"] = "memory harness (snapshot-memory.json): tracker storage added per snapshot / bytes of the covered weights, 8 layers d=512 MLP 4x, worst of fp32 and bf16 weights. The single W0 copy (100% of the covered weights, optionally on the CPU) is not counted here.",
                ["tracker_overhead_share"] = overheadShare is null
                    ? "Not measured yet: run the speedup benchmark in full mode (speedup.json), then this command."
                    : TrackerOverheadNote,
            },
            ["details"] = new JsonObject
            {
                ["svd_2048_median_ms"] = Round(svd2048 / 1e6, 1),
                ["top1_speedup_vs_svd_2048_cold_start"] = Round(speedupCold, 1),
                ["ratio_to_read_once"] = floor,
                ["snapshot_to_read_both"] = snapshotFloor,
                ["realistic_model_device_path_over_span_kernel_worst"] = Round(worstDeviceVsSpan, 2),
                ["tracker_overhead_share_jump_accuracy_harness"] = Round(accuracy?["tracker_overhead_share"]?.GetValue<double>(), 6),
                ["snapshot_memory"] = memory?.DeepClone(),
            },
        };
        var summaryPath = Path.Combine(resultsDir, "bdn-summary.json"); // performance-summary.json is the performance-summary command's
        File.WriteAllText(summaryPath, summary.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        Console.WriteLine($"wrote {summaryPath}");

        File.WriteAllText(Path.Combine(resultsDir, "performance.md"), Markdown(reportsDir, resultsDir, speedupWarm, speedupCold, maxWarmTorch, storageShare, floor, memory,
            worstSpanSnapshot, worstDeviceVsSpan, jumpError, snapshotFloor));
        Console.WriteLine($"wrote {Path.Combine(resultsDir, "performance.md")}");
        return 0;
    }

    /// <summary>Where <c>tracker_overhead_share</c> comes from, as the summary's notes say it.</summary>
    public const string TrackerOverheadNote = "speedup harness, full mode (speedup.json): median over the llm-like GRPO seeds of the tracking session's time (snapshots and fits every 10 steps, the default interval) / the full run's RL step time.";

    /// <summary>Median tracker overhead share of the main GRPO experiment's seeds in the speedup results, if they exist.</summary>
    public static double? TrackerOverheadShare(string speedupJson)
    {
        if (!File.Exists(speedupJson)) return null;
        var root = JsonNode.Parse(File.ReadAllText(speedupJson))!;
        double[] shares = root["cells"]!.AsArray()
            .Where(s => s!["regime"]!.GetValue<string>() is "elicit-lr1e-6" or "llm-like" && s["algorithm"]!.GetValue<string>() == "grpo")
            .Select(s => s!["tracker_overhead_share"]!.GetValue<double>()).Order().ToArray();
        return shares.Length == 0 ? null : shares[shares.Length / 2];
    }

    private static IEnumerable<Row> ReadRows(string path)
    {
        var root = JsonNode.Parse(File.ReadAllText(path))!;
        foreach (var b in root["Benchmarks"]!.AsArray())
        {
            var stats = b!["Statistics"];
            if (stats is null) continue;
            long? allocated = b["Memory"]?["BytesAllocatedPerOperation"]?.GetValue<long>();
            yield return new Row(b["Type"]!.GetValue<string>(), b["Method"]!.GetValue<string>(),
                b["Parameters"]?.GetValue<string>() ?? "", stats["Median"]!.GetValue<double>(), allocated);
        }
    }

    private static double? Round(double? x, int digits) => x is null ? null : Math.Round(x.Value, digits);

    private static string Markdown(string reportsDir, string resultsDir, double? speedupWarm, double? speedupCold,
        double? maxWarmTorch, double? storageShare, JsonObject floor, JsonArray? memory,
        double? worstSpanSnapshot, double? worstDeviceVsSpan, double? jumpError, JsonObject snapshotFloor)
    {
        var md = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        md.AppendLine("# AlphaRL performance results").AppendLine();
        md.AppendLine("Generated by `dotnet run -c Release --project AlphaRL.Benchmarks -- summary` from the BenchmarkDotNet reports in `bdn/` and `snapshot-memory.json`; do not edit by hand (the analysis comes from `benchmarks/analysis.md`).").AppendLine();
        md.AppendLine("## Run").AppendLine();
        md.AppendLine($"- Date of the reports: {File.GetLastWriteTimeUtc(Directory.GetFiles(reportsDir).OrderBy(File.GetLastWriteTimeUtc).Last()):yyyy-MM-dd HH:mm} UTC");
        md.AppendLine($"- Machine: {Environment.ProcessorCount} cores ({CpuModel()}), {MemTotalGiB():0.#} GiB RAM, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}, TorchSharp-cpu 0.107.0 (LibTorch 2.10.0, {TorchThreads()} threads)");
        md.AppendLine("- Shared by other engineers' builds and runs while measuring: figures are medians, and ratios compare medians measured side by side in one run.");
        md.AppendLine($"- Command (from the repository root): `{Command}`").AppendLine();

        md.AppendLine("## Goals").AppendLine();
        md.AppendLine("| goal | target | measured | verdict |").AppendLine("|---|---|---|---|");
        md.AppendLine($"| top triplet vs full SVD at 2048x2048 (warm start; cold) | >= 100x | {Fmt(speedupWarm, "0.0")}x; {Fmt(speedupCold, "0.0")}x | {Verdict(speedupWarm >= 100)} |");
        md.AppendLine($"| top triplet / read-once floor, every size >= 1024 (torch, warm, worst of fp32/bf16) | <= 3x | {Fmt(maxWarmTorch, "0.00")}x | {Verdict(maxWarmTorch <= 3)} |");
        md.AppendLine($"| snapshot storage / model size, d = 512 (worst of fp32/bf16) | <= 1% | {Fmt(storageShare * 100, "0.000")}% | {Verdict(storageShare <= 0.01)} |");
        md.AppendLine("| tracker overhead / training wall time, default interval | <= 2% | measured by the speedup harness (issue 4), not here | - |");
        md.AppendLine($"| snapshot / read W_t and W0 once, every size >= 1024 (span kernel, warm, worst of fp32/bf16) | <= 2x | {Fmt(worstSpanSnapshot, "0.00")}x | {Verdict(worstSpanSnapshot <= 2)} |");
        md.AppendLine($"| realistic model: device path (batched by shape) / span kernel on the CPU (worst of d, dtype) | <= 3x | {Fmt(worstDeviceVsSpan, "0.00")}x | {Verdict(worstDeviceVsSpan <= 3)} |");
        md.AppendLine($"| rank-1 jump: tracker snapshots vs exact SVD, / the jump's correction | < 1% | {Fmt(jumpError * 100, "0.000")}% | {Verdict(jumpError < 0.01)} |").AppendLine();

        md.AppendLine("### Snapshot / reading W_t and W0 once (default settings, warm start; medians, same run)").AppendLine();
        md.AppendLine("| matrix or model / dtype / size / path | ratio |").AppendLine("|---|---|");
        foreach (var (key, value) in snapshotFloor) md.AppendLine($"| {key} | {value!.GetValue<double>().ToString("0.00", inv)} |");
        md.AppendLine();

        md.AppendLine("### Ratio to reading dW once (medians, same run)").AppendLine();
        md.AppendLine("| engine / dtype / size / start | ratio |").AppendLine("|---|---|");
        foreach (var (key, value) in floor) md.AppendLine($"| {key} | {value!.GetValue<double>().ToString("0.00", inv)} |");
        md.AppendLine();

        if (memory is not null)
        {
            md.AppendLine("### Memory per snapshot (8 layers, d = 512, MLP 4x; `memory` command)").AppendLine();
            md.AppendLine("| weights | model bytes | W0 copy bytes | storage / snapshot | share | RSS delta / snapshot | managed alloc / snapshot | Observe mean |");
            md.AppendLine("|---|---|---|---|---|---|---|---|");
            foreach (var m in memory)
                md.AppendLine($"| {m!["dtype"]} | {m["model_bytes"]} | {m["base_copy_bytes"]} | {m["storage_bytes_per_snapshot"]} | {(m["storage_share_per_snapshot"]!.GetValue<double>() * 100).ToString("0.000", inv)}% | {m["rss_delta_bytes_per_snapshot"]} | {m["managed_allocated_bytes_per_snapshot"]} | {m["observe_mean_ms"]!.GetValue<double>().ToString("0.0", inv)} ms |");
            md.AppendLine();
        }

        var analysis = Path.Combine(Path.GetDirectoryName(resultsDir)!, "analysis.md");
        if (File.Exists(analysis)) md.AppendLine(File.ReadAllText(analysis).TrimEnd()).AppendLine();

        md.AppendLine("## BenchmarkDotNet tables").AppendLine();
        foreach (var file in Directory.GetFiles(reportsDir, "*-report-github.md").OrderBy(f => f, StringComparer.Ordinal))
        {
            md.AppendLine($"### {Path.GetFileName(file).Replace("AlphaRl.Benchmarks.", "").Replace("-report-github.md", "")}").AppendLine();
            md.AppendLine(File.ReadAllText(file).Trim()).AppendLine();
        }
        return md.ToString();
    }

    private static string Fmt(double? x, string format) => x?.ToString(format, CultureInfo.InvariantCulture) ?? "n/a";

    private static string Verdict(bool? met) => met switch { true => "met", false => "missed", null => "not measured" };

    private static int TorchThreads() => global::TorchSharp.torch.get_num_threads();

    internal static string CpuModel() =>
        File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim() ?? "unknown CPU";

    internal static double MemTotalGiB()
    {
        var line = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:"));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0 / 1024.0;
    }
}
