using System.Diagnostics;
using System.Text.Json;

namespace AlphaRl.Tests.Build;

/// <summary>
/// The <c>TorchBundle</c> MSBuild property (Directory.Build.targets): the runnable projects reference the bundle it
/// names and no other, libraries reference none, every known bundle has a central version, and an unknown name fails
/// the build with an error that names it. Project files are evaluated with <c>dotnet msbuild -getItem</c>, which needs
/// no restore, so the CUDA bundles are checked without being downloaded.
/// </summary>
[Category("Build")]
public class TorchBundleTests
{
    private static readonly string[] Bundles = ["TorchSharp-cpu", "TorchSharp-cuda-windows", "TorchSharp-cuda-linux"];

    [TestCase("AlphaRL.Benchmarks/AlphaRL.Benchmarks.csproj")]
    [TestCase("samples/QuickStart/QuickStart.csproj")]
    [TestCase("samples/LongRun/LongRun.csproj")]
    [TestCase("AlphaRL.Tests/AlphaRL.Tests.csproj")]
    public void RunnableProject_ReferencesTheCpuBundle_ByDefault(string project)
    {
        var evaluation = Evaluate(project);
        Assert.That(evaluation.Property("TorchBundle"), Is.EqualTo("TorchSharp-cpu"));
        Assert.That(evaluation.RuntimeBundles, Is.EqualTo(new[] { "TorchSharp-cpu" }));
    }

    [TestCase("AlphaRL.Benchmarks/AlphaRL.Benchmarks.csproj", "TorchSharp-cuda-windows")]
    [TestCase("samples/QuickStart/QuickStart.csproj", "TorchSharp-cuda-windows")]
    [TestCase("samples/LongRun/LongRun.csproj", "TorchSharp-cuda-linux")]
    [TestCase("AlphaRL.Tests/AlphaRL.Tests.csproj", "TorchSharp-cuda-linux")]
    public void RunnableProject_ReferencesTheNamedBundle_AndNotTheCpuOne(string project, string bundle)
    {
        var evaluation = Evaluate(project, $"-p:TorchBundle={bundle}");
        Assert.That(evaluation.RuntimeBundles, Is.EqualTo(new[] { bundle }));
    }

    [TestCase("AlphaRL.Workloads/AlphaRL.Workloads.csproj")]
    [TestCase("AlphaRL.TorchSharp/AlphaRL.TorchSharp.csproj")]
    public void Library_ReferencesNoRuntimeBundle_SoOnlyTheAppsBundleReachesTheOutput(string project)
    {
        var evaluation = Evaluate(project, "-p:TorchBundle=TorchSharp-cuda-linux");
        Assert.That(evaluation.RuntimeBundles, Is.Empty);
        Assert.That(evaluation.PackageReferences, Does.Contain("TorchSharp"));
    }

    [Test]
    public void EveryKnownBundle_HasACentralVersionMatchingTorchSharps()
    {
        var evaluation = Evaluate("samples/QuickStart/QuickStart.csproj", "-getProperty:AlphaRLKnownTorchBundles");
        Assert.That(evaluation.Property("AlphaRLKnownTorchBundles")!.Split(';'), Is.EquivalentTo(Bundles));
        string torchSharp = evaluation.Versions["TorchSharp"];
        foreach (string bundle in Bundles)
            Assert.That(evaluation.Versions.GetValueOrDefault(bundle), Is.EqualTo(torchSharp), $"central version of {bundle}");
    }

    [Test]
    public void UnknownBundle_FailsTheBuild_NamingItAndTheKnownOnes()
    {
        var (exit, output, _) = MsBuild("samples/QuickStart/QuickStart.csproj", "-t:CollectPackageReferences", "-p:TorchBundle=TorchSharp-rocm");
        Assert.That(exit, Is.Not.EqualTo(0), output);
        Assert.That(output, Does.Contain("TorchBundle 'TorchSharp-rocm' is not a TorchSharp runtime bundle")
            .And.Contain("TorchSharp-cpu, TorchSharp-cuda-windows, TorchSharp-cuda-linux"));
    }

    private sealed record Evaluation(JsonElement Json)
    {
        public string? Property(string name) => Json.GetProperty("Properties").GetProperty(name).GetString();

        public List<string> PackageReferences => Items("PackageReference").Select(i => i.GetProperty("Identity").GetString()!).ToList();

        /// <summary>References to a TorchSharp runtime bundle (TorchSharp-cpu, TorchSharp-cuda-*).</summary>
        public List<string> RuntimeBundles => PackageReferences.Where(r => r.StartsWith("TorchSharp-", StringComparison.OrdinalIgnoreCase)).ToList();

        public Dictionary<string, string> Versions => Items("PackageVersion")
            .ToDictionary(i => i.GetProperty("Identity").GetString()!, i => i.GetProperty("Version").GetString()!);

        private IEnumerable<JsonElement> Items(string type) =>
            Json.GetProperty("Items").TryGetProperty(type, out var items) ? items.EnumerateArray() : [];
    }

    private static Evaluation Evaluate(string project, params string[] extra)
    {
        var (exit, output, error) = MsBuild(project, ["-getItem:PackageReference", "-getItem:PackageVersion", "-getProperty:TorchBundle", .. extra]);
        Assert.That(exit, Is.EqualTo(0), output + error);
        return new Evaluation(JsonDocument.Parse(output).RootElement.Clone());
    }

    private static (int Exit, string Output, string Error) MsBuild(string project, params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepositoryRoot(),
        };
        foreach (string arg in new[] { "msbuild", project, "-nologo" }.Concat(args)) start.ArgumentList.Add(arg);
        // The test host may run under MSBuild's environment; the child must evaluate with its own SDK's.
        foreach (string key in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
            start.Environment.Remove(key);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        Assert.That(process.WaitForExit(TimeSpan.FromMinutes(2)), Is.True, $"dotnet msbuild {project} did not finish");
        return (process.ExitCode, output, error.Result);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "AlphaRL.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No AlphaRL.sln above {AppContext.BaseDirectory}.");
    }
}
