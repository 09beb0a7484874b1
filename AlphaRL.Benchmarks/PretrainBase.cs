using System.Diagnostics;
using AlphaRl.Workloads;
using AlphaRl.Workloads.Tasks;
using AlphaRl.Workloads.Training;

namespace AlphaRl.Benchmarks;

/// <summary>
/// <c>pretrain-base</c>: rebuilds the elicitation task's committed base from its recipe, writes it atomically, prints
/// its SHA-256 (which must equal <see cref="ElicitationBase.Sha256"/>) and what the base does on each format.
/// </summary>
internal static class PretrainBase
{
    public static int Run(string path)
    {
        var clock = Stopwatch.StartNew();
        var settings = new PretrainingSettings();
        using var model = ElicitationBase.Train(settings, Console.WriteLine);
        string hash = ElicitationBase.Save(model, path);
        Console.WriteLine($"Wrote {path} in {clock.Elapsed.TotalSeconds:F0} s; SHA-256 {hash} ({(hash == ElicitationBase.Sha256 ? "matches the committed base" : "differs from the committed " + ElicitationBase.Sha256)}).");
        var task = new ElicitationTask();
        var sets = new PromptSets(task, ElicitationBase.SplitSeed);
        foreach (var format in Enum.GetValues<PromptFormat>())
        {
            var test = sets.Test.Select(p => p with { Prompt = task.Prompt(format, p.Id) }).ToList();
            var carry = test.Where(p => task.NeedsCarry(p.Id)).ToList();
            Console.WriteLine($"format {format}: greedy accuracy {Sequences.Accuracy(model, task, test):F3}, expected reward {Sequences.ExpectedReward(model, task, test):F3}, " +
                $"no-carry answer on carry prompts {NoCarryShare(model, task, carry):P0}");
        }
        return 0;
    }

    /// <summary>Share of prompts that need a carry on which the greedy answer is the no-carry rule's.</summary>
    private static double NoCarryShare(AlphaRl.Workloads.Model.TinyGpt model, ElicitationTask task, List<Problem> carry)
    {
        var prompts = Sequences.Encode(carry.Select(p => p.Prompt).ToList(), task.Alphabet);
        string[] answers = Sequences.Decode(Sequences.Generate(model, prompts, task.AnswerLength, 0, null), task.Alphabet);
        return carry.Where((p, i) => answers[i] == task.WrongAnswer(p.Id)).Count() / (double)carry.Count;
    }
}
