using System.Diagnostics;
using System.Text.Json;
using AlphaRl.TorchSharp.Tracking;
using static TorchSharp.torch;

namespace AlphaRl.Benchmarks;

/// <summary>
/// Native and managed memory per snapshot, which BenchmarkDotNet cannot see on Linux (its native-memory
/// diagnoser is Windows-only): process RSS before and after N snapshots of the realistic shape, with the weights
/// moved between snapshots, plus the tracker's own storage against the model's size.
/// </summary>
internal static class SnapshotMemoryHarness
{
    public static int Run(string outputPath, int snapshots)
    {
        var results = new List<Dictionary<string, object>>();
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            using var model = new RealisticModel(dtype);
            using var tracker = model.StartTracking(3, interval: 1); // first touch of the allocator's pools
            long step = tracker.Steps[^1];
            long storageBefore = tracker.StorageBytes;
            GC.Collect();
            GC.WaitForPendingFinalizers();
            long rssBefore = ResidentBytes();
            long managed = 0;
            var observe = new Stopwatch();
            for (int i = 0; i < snapshots; i++)
            {
                model.Train();
                long allocated = GC.GetAllocatedBytesForCurrentThread();
                observe.Start();
                tracker.Observe(++step);
                observe.Stop();
                managed += GC.GetAllocatedBytesForCurrentThread() - allocated;
            }
            GC.Collect();
            GC.WaitForPendingFinalizers();
            long rssAfter = ResidentBytes();
            long storagePerSnapshot = (tracker.StorageBytes - storageBefore) / snapshots;
            var row = new Dictionary<string, object>
            {
                ["dtype"] = dtype.ToString(),
                ["layers"] = RealisticModel.Layers,
                ["d_model"] = RealisticModel.Width,
                ["covered_matrices"] = model.Covered.Count,
                ["model_bytes"] = model.ModelBytes,
                ["base_copy_bytes"] = tracker.Base.Bytes,
                ["snapshots_measured"] = snapshots,
                ["storage_bytes_per_snapshot"] = storagePerSnapshot,
                ["storage_share_per_snapshot"] = (double)storagePerSnapshot / model.ModelBytes,
                ["rss_delta_bytes_per_snapshot"] = (rssAfter - rssBefore) / snapshots,
                ["managed_allocated_bytes_per_snapshot"] = managed / snapshots,
                ["observe_mean_ms"] = observe.Elapsed.TotalMilliseconds / snapshots,
            };
            results.Add(row);
            Console.WriteLine(string.Join(", ", row.Select(kv => $"{kv.Key}={kv.Value}")));
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outputPath))!);
        File.WriteAllText(outputPath, JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }) + "\n");
        Console.WriteLine($"wrote {outputPath}");
        return 0;
    }

    /// <summary>Resident set size of this process (Linux /proc/self/status).</summary>
    internal static long ResidentBytes()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        throw new InvalidOperationException("VmRSS not found in /proc/self/status; the memory harness needs Linux.");
    }
}
