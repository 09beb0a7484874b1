using AlphaRl.Workloads;
using AlphaRl.Workloads.Training;

namespace AlphaRl.Benchmarks;

internal static class Probe
{
    public static int Run(string[] args)
    {
        var s = new RlRunSettings
        {
            Algorithm = args[0], Task = args[1], LearningRate = double.Parse(args[2]), Seed = int.Parse(args[3]),
            BaseTargetAccuracy = double.Parse(args[5]), Width = int.Parse(args[6]),
        };
        int steps = int.Parse(args[4]);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var run = RlRuns.Create(s, "/work/main/.alpharl-cache", Console.WriteLine);
        Console.WriteLine($"base ready {clock.Elapsed.TotalSeconds:F1}s; test {run.Evaluate(EvalSplit.Test):F3} val {run.Evaluate(EvalSplit.Validation):F3}");
        double t = 0, r = 0;
        for (int i = 1; i <= steps; i++)
        {
            var st = run.TrainStep();
            t += st.Elapsed.TotalSeconds; r += st.MeanReward;
            if (i % 20 == 0) { Console.WriteLine($"step {i} reward {r / 20:F3} test {run.Evaluate(EvalSplit.Test):F3} step {t / 20 * 1000:F0} ms"); t = 0; r = 0; }
        }
        return 0;
    }
}
