using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using AlphaRl.Extrapolation;
using AlphaRl.Jumps;
using AlphaRl.TorchSharp;
using AlphaRl.TorchSharp.Jumps;
using AlphaRl.TorchSharp.Session;
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

    private static readonly JumpMethodOptions[] Methods = [new VelocityJumpOptions(), new Rank1LineJumpOptions(), new DirectionJumpOptions()];

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
            foreach (var method in methods)
            {
                long backup = method.Touches.Distinct(ReferenceEqualityComparer.Instance).Cast<Parameter>()
                    .Sum(p => p.NumberOfElements * p.ElementSize);
                rows.Add(new JsonObject
                {
                    ["dtype"] = dtype.ToString(),
                    ["method"] = method.Name,
                    ["layers"] = RealisticModel.Layers,
                    ["d_model"] = width,
                    ["covered_bytes"] = model.ModelBytes,
                    ["snapshots"] = JumpDefaults.MinSnapshots,
                    ["w0_copy_bytes"] = tracker.Base.Bytes,
                    ["snapshots_and_sketches_bytes"] = tracker.StorageBytes + window.Sketch.Bytes,
                    ["method_state_bytes"] = method.MemoryBytes,
                    ["held_between_steps_bytes"] = shared + method.MemoryBytes,
                    ["attempt_backup_bytes"] = backup,
                    ["peak_during_attempt_bytes"] = shared + method.MemoryBytes + backup,
                });
            }
        }
        return rows;
    }

    public static int Run(string outputPath, string docsPath, int width)
    {
        var rows = Measure(width);
        File.WriteAllText(outputPath, rows.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
        Console.WriteLine($"wrote {outputPath}");
        Console.Write(Table(rows));
        return ReplaceTable(docsPath, rows);
    }

    /// <summary>Velocity's running state over the bytes of the tensors it moves, worst of the dtypes.</summary>
    public static double VelocityStateOverMovedBytes(JsonArray rows) => rows
        .Where(r => r!["method"]!.GetValue<string>() == "velocity")
        .Max(r => (double)r!["method_state_bytes"]!.GetValue<long>() / r["attempt_backup_bytes"]!.GetValue<long>());

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
        var first = rows[0]!;
        var md = new StringBuilder();
        md.AppendLine($"Measured by `{Command}` ({first["layers"]} layers, d = {first["d_model"]}, MLP 4x, covered matrices only, default options, " +
                      $"after {first["snapshots"]} snapshots; MB = 2^20 bytes; x = times the covered weights' bytes in their dtype):").AppendLine();
        md.AppendLine("| parameters | method | covered weights | W0 copy | snapshots + sketches | method state | held between steps | attempt's backup | peak in an attempt |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var r in rows)
        {
            var c = r!["covered_bytes"];
            md.AppendLine($"| {r["dtype"]} | {r["method"]} | {Mb(c)} MB | {Mb(r["w0_copy_bytes"])} MB ({Share(r["w0_copy_bytes"], c)}) | {Mb(r["snapshots_and_sketches_bytes"])} MB | " +
                          $"{Mb(r["method_state_bytes"])} MB ({Share(r["method_state_bytes"], c)}) | {Mb(r["held_between_steps_bytes"])} MB ({Share(r["held_between_steps_bytes"], c)}) | " +
                          $"{Mb(r["attempt_backup_bytes"])} MB ({Share(r["attempt_backup_bytes"], c)}) | {Mb(r["peak_during_attempt_bytes"])} MB ({Share(r["peak_during_attempt_bytes"], c)}) |");
        }
        return md.ToString();
    }
}
