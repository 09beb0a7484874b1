using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using AlphaRl.Extrapolation;
using AlphaRl.Jumps;
using AlphaRl.TorchSharp;
using AlphaRl.TorchSharp.Jumps;
using AlphaRl.TorchSharp.Session;
using AlphaRl.TorchSharp.State;
using AlphaRl.TorchSharp.Tracking;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AlphaRl.Benchmarks;

/// <summary>
/// The device memory a session holds, per jump method, read from the session's own accounting after
/// <see cref="JumpDefaults.MinSnapshots"/> snapshots of the realistic model (8 layers, MLP 4x, covered matrices only):
/// W0's copy, the rank-1 snapshots, the path sketches, the method's running state (<c>IJumpMethod.MemoryBytes</c>) and
/// the one backup an attempt takes of what the method may write (<c>WeightBackup</c> of its <c>Touches</c>), for fp32
/// and bf16 parameters, default options. Writes <c>session-memory.json</c> and the table for docs/performance.md.
/// </summary>
internal static class SessionMemoryHarness
{
    public const string Command = "dotnet run -c Release --project AlphaRL.Benchmarks -- session-memory";

    /// <summary>Snapshots timed by <see cref="VelocityHost"/>.</summary>
    public const int HostSnapshots = 9;

    private static readonly JumpMethodOptions[] Methods =
        [new VelocityJumpOptions(), new VelocityJumpOptions { StateOnCpu = true }, new Rank1LineJumpOptions(), new DirectionJumpOptions()];

    private static string Label(JumpMethodOptions options) => options is VelocityJumpOptions { StateOnCpu: true } ? "velocity, StateOnCpu" : options.Name;

    /// <summary>One row per parameter dtype and method.</summary>
    public static JsonArray Measure(int width)
    {
        var rows = new JsonArray();
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            using var model = new RealisticModel(dtype, width: width);
            var tracker = new TorchSubspaceTracker(model.Covered);
            var context = new JumpMethodContext(tracker, new StepLineExtrapolator(), () => new List<(string, Parameter)>(), CopiesOnCpu: false);
            var methods = Methods.Select(m => m.Create(context)).ToList();
            using var window = new SnapshotWindow(tracker, methods, new AlphaRLOptions().Snapshots.Max, () => 0); // owns the tracker and methods
            window.Clear(0);
            for (int s = 1; s <= JumpDefaults.MinSnapshots; s++)
            {
                model.Train();
                window.Observe(10 * s);
            }
            long shared = tracker.Base.Bytes + tracker.StorageBytes + window.Sketch.Bytes;
            for (int k = 0; k < methods.Count; k++)
            {
                var method = methods[k];
                long backup = method.Touches.Distinct(ReferenceEqualityComparer.Instance).Cast<Parameter>()
                    .Sum(p => p.NumberOfElements * p.ElementSize);
                rows.Add(new JsonObject
                {
                    ["dtype"] = dtype.ToString(),
                    ["method"] = Label(Methods[k]),
                    ["layers"] = RealisticModel.Layers,
                    ["d_model"] = width,
                    ["covered_bytes"] = model.ModelBytes,
                    ["snapshots"] = JumpDefaults.MinSnapshots,
                    ["w0_copy_bytes"] = tracker.Base.Bytes,
                    ["snapshots_and_sketches_bytes"] = tracker.StorageBytes + window.Sketch.Bytes,
                    ["method_state_bytes"] = method.MemoryBytes,
                    ["method_state_on_device_bytes"] = method.MemoryBytes - method.HostMemoryBytes,
                    ["held_between_steps_bytes"] = shared + method.MemoryBytes - method.HostMemoryBytes,
                    ["attempt_backup_bytes"] = backup,
                    ["peak_during_attempt_bytes"] = shared + method.MemoryBytes - method.HostMemoryBytes + backup,
                });
            }
        }
        return rows;
    }

    /// <summary>
    /// What keeping the velocity's sums in host memory (<see cref="VelocityJumpOptions.StateOnCpu"/>) costs the trainer
    /// and changes in the jump, on the realistic model (<paramref name="width"/>), for fp32 and bf16 parameters. Per
    /// snapshot, interleaved: the time the caller spends in Observe with the sums beside the parameters (the fold runs on
    /// the caller's thread) and with StateOnCpu (the caller waits for the copy to the host; the fold then runs on a worker),
    /// and how long that fold still runs after Observe returns; and the fold with the torch operations the hook runs on
    /// other devices (on the CPU it folds with Core's span pass). Then the jump to 3x the window from both states, compared
    /// element by element: ‖difference‖ / ‖jump − W_e‖ and the count of elements that differ.
    /// </summary>
    public static JsonArray VelocityHost(int width, int snapshots)
    {
        var rows = new JsonArray();
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            using var model = new RealisticModel(dtype, width: width);
            using var tracker = new TorchSubspaceTracker(model.Covered);
            var context = new JumpMethodContext(tracker, new StepLineExtrapolator(), () => new List<(string, Parameter)>(), CopiesOnCpu: false);
            using var device = new VelocityJumpOptions().Create(context);
            using var host = new VelocityJumpOptions { StateOnCpu = true }.Create(context);
            using var torchOps = new VelocityJumpOptions().Create(context);
            var deviceMs = new List<double>();
            var torchOpsMs = new List<double>();
            var hostMs = new List<double>();
            var foldMs = new List<double>();
            var view = new WindowView(0, 0, 0, 0);
            for (int s = 1; s <= snapshots; s++)
            {
                model.Train();
                view = new WindowView(0, 0, 10 * s, s);
                if (s % 2 == 0) Time(device, deviceMs);
                Time(host, hostMs);
                var clock = Stopwatch.StartNew();
                host.Save(new MethodState()); // waits for the worker's fold
                foldMs.Add(clock.Elapsed.TotalMilliseconds);
                if (s % 2 == 1) Time(device, deviceMs);
                VelocityJump.TorchOpsOnCpu = true;
                try
                {
                    Time(torchOps, torchOpsMs);
                }
                finally
                {
                    VelocityJump.TorchOpsOnCpu = false;
                }
            }

            void Time(IJumpMethod method, List<double> times)
            {
                var clock = Stopwatch.StartNew();
                method.Observe(view);
                times.Add(clock.Elapsed.TotalMilliseconds);
            }

            long target = 3 * view.Last, differing = 0;
            double diff = 0, correction = 0;
            using (var backup = new WeightBackup(device.Touches, onCpu: false))
            {
                var before = device.Touches.Select(Floats).ToList();
                device.Apply(view, target);
                var fromDevice = device.Touches.Select(Floats).ToList();
                backup.Restore();
                host.Apply(view, target);
                var fromHost = host.Touches.Select(Floats).ToList();
                backup.Restore();
                for (int t = 0; t < before.Count; t++)
                    for (int i = 0; i < before[t].Length; i++)
                    {
                        double d = fromHost[t][i] - fromDevice[t][i], c = fromDevice[t][i] - before[t][i];
                        diff += d * d;
                        correction += c * c;
                        if (BitConverter.SingleToInt32Bits(fromHost[t][i]) != BitConverter.SingleToInt32Bits(fromDevice[t][i])) differing++;
                    }
            }
            rows.Add(new JsonObject
            {
                ["dtype"] = dtype.ToString(),
                ["device"] = Workloads.Device.ToString(),
                ["layers"] = RealisticModel.Layers,
                ["d_model"] = width,
                ["covered_bytes"] = model.ModelBytes,
                ["snapshots"] = snapshots,
                ["observe_sums_on_device_ms_median"] = Math.Round(Median(deviceMs), 2),
                ["observe_sums_on_device_torch_ops_ms_median"] = Math.Round(Median(torchOpsMs), 2),
                ["observe_state_on_cpu_ms_median"] = Math.Round(Median(hostMs), 2),
                ["fold_after_observe_returns_ms_median"] = Math.Round(Median(foldMs), 2),
                ["jump_difference_over_correction"] = Math.Sqrt(diff / correction),
                ["jump_elements_differing"] = differing,
            });
        }
        return rows;
    }

    private static double Median(List<double> xs) => PerformanceSummary.Median(xs);

    private static float[] Floats(Parameter p)
    {
        using var scope = NewDisposeScope();
        return p.detach().to(ScalarType.Float32).cpu().data<float>().ToArray();
    }

    /// <summary>Measures, writes the JSON files beside <paramref name="outputPath"/> and, unless <paramref name="docsPath"/> is null, the table in the docs.</summary>
    public static int Run(string outputPath, string? docsPath, int width)
    {
        var rows = Measure(width);
        File.WriteAllText(outputPath, rows.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
        Console.WriteLine($"wrote {outputPath}");
        Console.Write(Table(rows));
        var host = VelocityHost(width, HostSnapshots);
        string hostPath = Path.Combine(Path.GetDirectoryName(outputPath)!, "velocity-host.json");
        File.WriteAllText(hostPath, host.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
        Console.WriteLine(host.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"wrote {hostPath}");
        return docsPath is null ? 0 : ReplaceTable(docsPath, rows);
    }

    /// <summary>The velocity's running state on the parameters' device over the bytes of the tensors it moves, worst of
    /// the dtypes, for the row labelled <paramref name="method"/> ("velocity": the default; "velocity, StateOnCpu").</summary>
    public static double VelocityStateOverMovedBytes(JsonArray rows, string method) => rows
        .Where(r => r!["method"]!.GetValue<string>() == method)
        .Max(r => (double)r!["method_state_on_device_bytes"]!.GetValue<long>() / r["attempt_backup_bytes"]!.GetValue<long>());

    private const string Begin = "<!-- session-memory table: begin -->", End = "<!-- session-memory table: end -->";

    /// <summary>Writes the table between the markers of docs/performance.md (appends a section the first time).</summary>
    public static int ReplaceTable(string docsPath, JsonArray rows)
    {
        if (!File.Exists(docsPath)) return 0;
        string text = File.ReadAllText(docsPath), table = Begin + "\n" + Table(rows) + End;
        int start = text.IndexOf(Begin, StringComparison.Ordinal), end = text.IndexOf(End, StringComparison.Ordinal);
        text = start >= 0 && end > start
            ? text[..start] + table + text[(end + End.Length)..]
            : text.TrimEnd() + "\n\n## Device memory of a session, per method\n\n" + table + "\n";
        File.WriteAllText(docsPath, text);
        Console.WriteLine($"updated the table in {docsPath}");
        return 0;
    }

    private static string Table(JsonArray rows)
    {
        static string Mb(JsonNode? bytes) => (bytes!.GetValue<long>() / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture);
        static string Share(JsonNode? bytes, JsonNode? covered) =>
            ((double)bytes!.GetValue<long>() / covered!.GetValue<long>()).ToString("0.00", CultureInfo.InvariantCulture) + "x";
        string State(JsonNode? r) => r!["method_state_on_device_bytes"]!.GetValue<long>() == r["method_state_bytes"]!.GetValue<long>()
            ? $"{Mb(r["method_state_bytes"])} MB ({Share(r["method_state_bytes"], r["covered_bytes"])})"
            : $"{Mb(r["method_state_on_device_bytes"])} MB ({Share(r["method_state_on_device_bytes"], r["covered_bytes"])}; {Mb(r["method_state_bytes"])} MB in host memory)";
        var first = rows[0]!;
        var md = new StringBuilder();
        md.AppendLine($"Measured by `{Command}` ({first["layers"]} layers, d = {first["d_model"]}, MLP 4x, covered matrices only, default options, " +
                      $"after {first["snapshots"]} snapshots; MB = 2^20 bytes; x = times the covered weights' bytes in their dtype, counting only what " +
                      "lives on the parameters' device; with StateOnCpu the velocity's sums are in host memory and left out of the last three columns):").AppendLine();
        md.AppendLine("| parameters | method | covered weights | W0 copy | snapshots + sketches | method state (on the device) | held between steps | attempt's backup | peak in an attempt |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var r in rows)
        {
            var c = r!["covered_bytes"];
            md.AppendLine($"| {r["dtype"]} | {r["method"]} | {Mb(c)} MB | {Mb(r["w0_copy_bytes"])} MB ({Share(r["w0_copy_bytes"], c)}) | {Mb(r["snapshots_and_sketches_bytes"])} MB | " +
                          $"{State(r)} | {Mb(r["held_between_steps_bytes"])} MB ({Share(r["held_between_steps_bytes"], c)}) | " +
                          $"{Mb(r["attempt_backup_bytes"])} MB ({Share(r["attempt_backup_bytes"], c)}) | {Mb(r["peak_during_attempt_bytes"])} MB ({Share(r["peak_during_attempt_bytes"], c)}) |");
        }
        return md.ToString();
    }
}
