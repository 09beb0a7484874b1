using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using AlphaRl.Checkpoints;
using AlphaRl.Cli;
using AlphaRl.TorchSharp;
using AlphaRl.TorchSharp.Jumps;
using AlphaRl.Workloads;
using AlphaRl.Workloads.Model;
using AlphaRl.Workloads.Training;
using static TorchSharp.torch;

namespace AlphaRl.DevTools;

/// <summary>
/// The hook's side of <c>alpharl watch</c>'s comparison: trains a plan's RL run with the hook as the speedup benchmark's
/// velocity arm does, writes the policy at the base and at every snapshot the hook takes in its first window (the
/// checkpoints a trainer would save, in the hook's step numbering), stops after the hook's first jump attempt and writes
/// what the hook saw (<see cref="HookRecord"/>); and scores any weights of the plan's policy with the hook's guard.
/// </summary>
internal static class HookSeries
{
    /// <summary>The record of the run, in the output folder.</summary>
    public const string RecordFile = "hook.json";

    /// <summary>The folder of the base (step 0).</summary>
    public const string BaseFolder = "base";

    /// <summary>The folder of the checkpoint at <paramref name="step"/>.</summary>
    public static string CheckpointFolder(long step) => $"checkpoint-{step}";

    /// <summary>What the guard scores, in words (hook.json).</summary>
    public const string GuardDescription = "exact expected reward on the validation prompts (RlRun.ExpectedReward(EvalSplit.Validation)), no standard error";

    /// <summary>
    /// Runs <paramref name="plan"/> into <paramref name="output"/> (created; must be empty or missing) until the hook's
    /// first jump attempt, and returns the record also written to <see cref="RecordFile"/>.
    /// </summary>
    /// <exception cref="UsageException"><paramref name="output"/> holds files.</exception>
    /// <exception cref="InvalidOperationException">The hook did not attempt a jump by the window's end.</exception>
    public static HookRecord Run(HookPlan plan, string output, string cacheDirectory, Action<string>? log = null)
    {
        if (Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any())
            throw new UsageException($"--out {output} is not empty: hook-series writes a new series.");
        var wall = Stopwatch.StartNew();
        var options = plan.Options();
        using var run = RlRuns.Create(plan.Settings, cacheDirectory, log);
        Directory.CreateDirectory(output);
        Save(run.Model, Path.Combine(output, BaseFolder));
        var snapshots = new List<long>();
        void Checkpoint(long step)
        {
            Save(run.Model, Path.Combine(output, CheckpointFolder(step)));
            snapshots.Add(step);
            log?.Invoke($"step {step}: snapshot, saved {CheckpointFolder(step)}");
        }

        using var session = AlphaRL.Accelerate(run.Policy, options);
        var train = TimeSpan.Zero;
        var seen = new List<(GuardContext Context, double Score)>();
        JumpOutcome? jump = null;
        // The attempt comes at the window's end: the fit threshold lets every window through (the guard decides).
        for (int step = 1; step <= plan.Window && jump is null; step++)
        {
            train += run.TrainStep().Elapsed;
            // The benchmark's guard; W_e is the live policy when the guard scores it, before any candidate is written.
            var outcome = session.Step(step, context =>
            {
                if (context.Phase == GuardPhase.Before) Checkpoint(context.FromStep);
                double score = run.ExpectedReward(EvalSplit.Validation);
                seen.Add((context, score));
                return score;
            });
            // A snapshot leaves the weights as they are; after an attempt they may be a candidate's (saved above instead).
            if (outcome.Action is StepAction.Snapshot or StepAction.JumpSkipped) Checkpoint(outcome.EffectiveStep);
            jump = outcome.Jump;
        }
        if (jump is null)
            throw new InvalidOperationException($"The hook attempted no jump in the window of {plan.Window} steps (snapshots at {string.Join(", ", snapshots)}).");

        EnsureRecorded(jump, seen);
        var record = HookRecord.Of(plan, session.Options, jump, snapshots, train, wall.Elapsed);
        File.WriteAllText(Path.Combine(output, RecordFile), JsonSerializer.Serialize(record, HookJson.Default.HookRecord));
        return record;
    }

    /// <summary>Checks that the attempt's outcome lists what the guard was asked, in order, with the scores it returned.</summary>
    private static void EnsureRecorded(JumpOutcome jump, List<(GuardContext Context, double Score)> seen)
    {
        var told = jump.Candidates.Select(c => (GuardPhase.After, c.Length, c.TargetStep, c.Score)).Prepend((GuardPhase.Before, 0.0, jump.FromStep, jump.ScoreBefore));
        var asked = seen.Select(s => (s.Context.Phase, s.Context.Length, s.Context.TargetStep, (double?)s.Score));
        if (!told.SequenceEqual(asked))
            throw new InvalidOperationException($"The hook's outcome lists {jump.Candidates.Count} candidate(s) after W_e; its guard scored {seen.Count} set(s) of weights, not the same ones or not with the same scores.");
    }

    /// <summary>
    /// The hook's guard score of the weights in <paramref name="path"/> (a folder holding model.safetensors, or the file):
    /// the plan's policy (its base for every tensor) with every parameter read from the file, scored as in <see cref="Run"/>.
    /// </summary>
    public static double Score(HookPlan plan, string path, string cacheDirectory)
    {
        string file = Directory.Exists(path) ? Path.Combine(path, AlphaRl.Checkpoints.Checkpoint.SingleFileName) : path;
        if (!File.Exists(file)) throw new FileNotFoundException($"{file} does not exist: hook-score needs a folder holding {AlphaRl.Checkpoints.Checkpoint.SingleFileName}, or the file.", file);
        using var run = RlRuns.Create(plan.Settings, cacheDirectory);
        Load(run.Model, file);
        return run.ExpectedReward(EvalSplit.Validation);
    }

    /// <summary>Writes the policy's parameters, by their <c>named_parameters</c> names, as float32 safetensors in <paramref name="folder"/>.</summary>
    private static void Save(TinyGpt model, string folder)
    {
        Directory.CreateDirectory(folder);
        ElicitationBase.Save(model, Path.Combine(folder, AlphaRl.Checkpoints.Checkpoint.SingleFileName));
    }

    /// <summary>Copies every parameter of <paramref name="model"/> from <paramref name="file"/>, which must hold exactly those tensors.</summary>
    private static void Load(TinyGpt model, string file)
    {
        using var weights = SafetensorsFile.Open(file);
        var parameters = model.named_parameters().ToList();
        var unknown = weights.Tensors.Select(t => t.Name).Except(parameters.Select(p => p.name), StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
            throw new AlphaRLException($"{file} holds tensors the policy does not have: {string.Join(", ", unknown.Take(5))}{(unknown.Count > 5 ? ", ..." : "")}.");
        using var noGrad = no_grad();
        foreach (var (name, parameter) in parameters)
        {
            if (!weights.TryGetTensor(name, out var info))
                throw new AlphaRLException($"{file} has no tensor '{name}', a parameter of the policy.");
            if (!info.Shape.SequenceEqual(parameter.shape))
                throw new AlphaRLException($"{file} has '{name}' of shape [{string.Join(", ", info.Shape)}]; the policy's is [{string.Join(", ", parameter.shape)}].");
            var values = new float[info.ElementCount];
            weights.ReadFloats(info, values);
            using var source = tensor(values, parameter.shape);
            parameter.copy_(source);
        }
    }
}

/// <summary>hook.json: the hook's first window and its first jump attempt, as the hook saw them.</summary>
/// <param name="Regime">The regime's name.</param>
/// <param name="Algorithm">"grpo" or "ppo".</param>
/// <param name="Seed">The RL seed.</param>
/// <param name="Window">The window's steps and which snapshots the velocity's slope used.</param>
/// <param name="Options">The hook's settings that decide the candidates and the verdict.</param>
/// <param name="TrainedStep">Optimizer steps trained when the jump was tried.</param>
/// <param name="ScoreBefore">The guard's score of W_e (the checkpoint at <see cref="HookWindow.Last"/>).</param>
/// <param name="StandardErrorBefore">Its standard error (0: the guard reports none).</param>
/// <param name="Kept">Whether a candidate was kept.</param>
/// <param name="KeptLength">The kept candidate's jump length, null when W_e stays.</param>
/// <param name="KeptTargetStep">The kept candidate's target step, null when W_e stays.</param>
/// <param name="Candidates">W_e (length 0, <c>noJump</c>) and every candidate in the order scored, with the guard's scores.</param>
/// <param name="Guard">What the guard's score is.</param>
/// <param name="TrainSeconds">Wall time of the RL steps.</param>
/// <param name="WallSeconds">Wall time of the whole run.</param>
internal sealed record HookRecord(string Regime, string Algorithm, int Seed, HookWindow Window, HookOptions Options, long TrainedStep,
    double ScoreBefore, double StandardErrorBefore, bool Kept, double? KeptLength, long? KeptTargetStep, IReadOnlyList<HookCandidate> Candidates,
    string Guard, double TrainSeconds, double WallSeconds)
{
    /// <summary>The record of a run's first attempt.</summary>
    public static HookRecord Of(HookPlan plan, AlphaRLOptions options, JumpOutcome jump,
        IReadOnlyList<long> snapshots, TimeSpan train, TimeSpan wall)
    {
        var velocity = options.Jumps.Methods.OfType<VelocityJumpOptions>().Single();
        // The hook's window starts at the session's start (the base, step 0) and ends at W_e; L = e − s.
        long start = 0, last = jump.FromStep;
        var window = new HookWindow(start, snapshots[0], last, last - start, snapshots, snapshots.Skip(velocity.SkipSnapshots).ToList());
        var settings = new HookOptions(velocity.Name, options.Jumps.Lengths.ToList(), options.Guard.Tolerance, options.Guard.NoiseZ,
            options.Attempts.MinSnapshots, options.Snapshots.Max, options.Snapshots.Interval, options.Attempts.FitThreshold,
            velocity.SkipSnapshots, velocity.IncludeUncovered, options.Jumps.MaxEvaluations);
        bool Chosen(JumpCandidate c) => c.Method == jump.Method && c.Length == jump.Length && c.TargetStep == jump.TargetStep;
        var candidates = jump.Candidates
            .Select(c => new HookCandidate(c.Length, c.TargetStep, null, false, c.Method, c.Score!.Value, c.StandardError ?? 0, jump.Kept && Chosen(c)))
            .Prepend(new HookCandidate(0, last, HookSeries.CheckpointFolder(last), true, null, jump.ScoreBefore!.Value, jump.StandardErrorBefore ?? 0, !jump.Kept))
            .ToList();
        return new HookRecord(plan.Regime, plan.Settings.Algorithm, plan.Settings.Seed, window, settings, jump.TrainedStep,
            jump.ScoreBefore!.Value, jump.StandardErrorBefore ?? 0, jump.Kept, jump.Kept ? jump.Length : null, jump.Kept ? jump.TargetStep : null,
            candidates, HookSeries.GuardDescription, train.TotalSeconds, wall.TotalSeconds);
    }
}

/// <summary>The hook's first window, in effective steps (equal to trained steps before any kept jump).</summary>
/// <param name="Start">s: the step the window began at (the session's start, the base).</param>
/// <param name="First">The first snapshot's step.</param>
/// <param name="Last">e: the last snapshot's step (W_e).</param>
/// <param name="Length">L = e − s, the unit of the jump lengths: a candidate of length j lands at e + round(j·L).</param>
/// <param name="Snapshots">Every snapshot's step; one checkpoint-N folder each.</param>
/// <param name="VelocitySnapshots">The snapshots the velocity's least-squares slope used (the first SkipSnapshots left out).</param>
internal sealed record HookWindow(long Start, long First, long Last, long Length, IReadOnlyList<long> Snapshots, IReadOnlyList<long> VelocitySnapshots);

/// <summary>The hook's settings that decide the attempt's candidates and its verdict.</summary>
internal sealed record HookOptions(string Method, IReadOnlyList<double> Lengths, double Tolerance, double NoiseZ, int MinSnapshots, int MaxSnapshots,
    int Interval, double FitThreshold, int SkipSnapshots, bool IncludeUncovered, int? MaxEvaluations);

/// <summary>One scored candidate of the attempt, in the shape of <c>alpharl watch --json</c>'s candidates.</summary>
/// <param name="Length">Jump length j in window lengths (0 for W_e).</param>
/// <param name="TargetStep">The step it lands at.</param>
/// <param name="Folder">The checkpoint folder holding its weights (W_e's only).</param>
/// <param name="NoJump">Whether this is W_e.</param>
/// <param name="Method">The jump method (null for W_e).</param>
/// <param name="Score">The guard's score.</param>
/// <param name="StandardError">Its standard error (0: none).</param>
/// <param name="Kept">Whether these weights are the ones the hook kept (W_e when no candidate was).</param>
internal sealed record HookCandidate(double Length, long TargetStep, string? Folder, bool NoJump, string? Method, double Score, double StandardError, bool Kept);

/// <summary>hook.json's serializer: camelCase, as <c>alpharl watch --json</c>.</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(HookRecord))]
internal sealed partial class HookJson : JsonSerializerContext;
