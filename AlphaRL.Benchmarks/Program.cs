using AlphaRl.Benchmarks;
using BenchmarkDotNet.Running;

// dotnet run -c Release --project AlphaRL.Benchmarks -- --filter '*'      BenchmarkDotNet suite
// dotnet run -c Release --project AlphaRL.Benchmarks -- memory [N]        RSS / storage per snapshot
// dotnet run -c Release --project AlphaRL.Benchmarks -- summary           results -> benchmarks/results
string resultsDir = Path.Combine(RepositoryRoot(), "benchmarks", "results");
switch (args.FirstOrDefault())
{
    case "memory":
        return SnapshotMemoryHarness.Run(Path.Combine(resultsDir, "snapshot-memory.json"),
            args.Length > 1 ? int.Parse(args[1]) : 30);
    case "summary":
        return ResultsSummary.Run(Path.Combine(RepositoryRoot(), "BenchmarkDotNet.Artifacts", "results"), resultsDir);
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
