using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace AlphaRl.TorchSharp;

/// <summary>Checks every setting of <see cref="AlphaRLOptions"/> and reports all failures at once, each naming the setting and its value.</summary>
public sealed class AlphaRLOptionsValidator : IValidateOptions<AlphaRLOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, AlphaRLOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        void Require(bool ok, string setting, object? value, string expected)
        {
            if (!ok) failures.Add($"AlphaRLOptions.{setting} = {Format(value)} is invalid: {expected}.");
        }

        Require(options.SnapshotInterval >= 1, nameof(options.SnapshotInterval), options.SnapshotInterval, "must be at least 1");
        Require(options.MinSnapshots >= 3, nameof(options.MinSnapshots), options.MinSnapshots, "must be at least 3 (two to fit, one to judge the fit out of sample)");
        Require(options.MaxSnapshots >= options.MinSnapshots, nameof(options.MaxSnapshots), options.MaxSnapshots, $"must be at least MinSnapshots ({options.MinSnapshots})");
        Require(double.IsFinite(options.FitThreshold) && options.FitThreshold > 0, nameof(options.FitThreshold), options.FitThreshold, "must be a positive finite number (a relative error, e.g. 0.1)");
        Require(options.HoldOutFraction is > 0 and < 1, nameof(options.HoldOutFraction), options.HoldOutFraction, "must be between 0 and 1 (exclusive)");
        if (options.TargetStep is { } target)
            Require(target > 0, nameof(options.TargetStep), target, "must be a positive step");
        else
            Require(double.IsFinite(options.TargetMultiple) && options.TargetMultiple > 1, nameof(options.TargetMultiple), options.TargetMultiple, "must be greater than 1 (a jump goes beyond the window)");
        Require(options.MaxJumps >= 0, nameof(options.MaxJumps), options.MaxJumps, "must be 0 or more");
        Require(double.IsFinite(options.GuardTolerance), nameof(options.GuardTolerance), options.GuardTolerance, "must be a finite number (negative: the jump must gain at least that much)");
        Require(double.IsFinite(options.GuardNoiseZ) && options.GuardNoiseZ >= 0, nameof(options.GuardNoiseZ), options.GuardNoiseZ, "must be a finite number of standard errors, 0 or more (0: ignore the evaluation's standard errors)");
        if (options.GuardFloors is null)
            failures.Add("AlphaRLOptions.GuardFloors is null: use an empty dictionary for no floors.");
        else
            foreach (var (metric, floor) in options.GuardFloors)
            {
                Require(!string.IsNullOrWhiteSpace(metric), nameof(options.GuardFloors), metric, "names a metric with an empty name");
                Require(double.IsFinite(floor), $"{nameof(options.GuardFloors)}[\"{metric}\"]", floor, "must be a finite floor");
            }
        if (options.StartStep is { } start)
            Require(start >= 0, nameof(options.StartStep), start, "must be 0 or more (the trained step the policy stands at)");
        Require(Enum.IsDefined(options.Schedule), nameof(options.Schedule), options.Schedule, "must be OnFit or Repeated");
        if (options.MaxEvaluationsPerWindow is { } cap)
            Require(cap >= 2, nameof(options.MaxEvaluationsPerWindow), cap, "must be at least 2 (W_e and one candidate), or null for no limit");
        Require(double.IsFinite(options.MinVelocityCosine) && options.MinVelocityCosine is >= -1 and <= 1, nameof(options.MinVelocityCosine), options.MinVelocityCosine, "must be a cosine between -1 and 1");
        Require(double.IsFinite(options.MinStepNormTrend) && options.MinStepNormTrend >= 0, nameof(options.MinStepNormTrend), options.MinStepNormTrend, "must be a finite ratio, 0 or more");
        CheckJumpLengths(options, failures);
        if (options.Methods is null)
            failures.Add("AlphaRLOptions.Methods = null is invalid: must be a list (empty: the default method).");
        else
            for (int i = 0; i < options.Methods.Count; i++)
            {
                if (options.Methods[i] is not { } method) failures.Add($"AlphaRLOptions.Methods[{i}] = null is invalid: must be a jump method's options.");
                else failures.AddRange(method.Validate($"Methods[{i}]", options));
            }
        Require(Enum.IsDefined(options.JumpForm), nameof(options.JumpForm), options.JumpForm, "must be Increment, AddToLast or AddToBase");
        Require(Enum.IsDefined(options.Uncovered), nameof(options.Uncovered), options.Uncovered, "must be Keep or Extrapolate");
        Require(options.PowerIteration is not null, nameof(options.PowerIteration), options.PowerIteration, "must be set");
        if (options.PowerIteration is not null)
        {
            Require(options.PowerIteration.Tolerance > 0 && float.IsFinite(options.PowerIteration.Tolerance), "PowerIteration.Tolerance", options.PowerIteration.Tolerance, "must be a positive finite number");
            Require(options.PowerIteration.MaxIterations >= 1, "PowerIteration.MaxIterations", options.PowerIteration.MaxIterations, "must be at least 1");
            Require(options.PowerIteration.WarmPasses >= 0, "PowerIteration.WarmPasses", options.PowerIteration.WarmPasses, "must be 0 or more (passes per warm-started snapshot; 0: iterate to the tolerance)");
        }
        CheckPatterns(options.IncludePatterns, nameof(options.IncludePatterns), failures);
        CheckPatterns(options.ExcludePatterns, nameof(options.ExcludePatterns), failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Validates and throws <see cref="OptionsValidationException"/> listing every failure.</summary>
    internal static void ThrowIfInvalid(AlphaRLOptions options)
    {
        var result = new AlphaRLOptionsValidator().Validate(Options.DefaultName, options);
        if (result.Failed)
            throw new OptionsValidationException(Options.DefaultName, typeof(AlphaRLOptions), result.Failures);
    }

    private static void CheckJumpLengths(AlphaRLOptions options, List<string> failures)
    {
        if (options.JumpLengths is null)
        {
            failures.Add("AlphaRLOptions.JumpLengths = null is invalid: must be a list of jump lengths (0 or more).");
            return;
        }
        for (int i = 0; i < options.JumpLengths.Count; i++)
            if (!double.IsFinite(options.JumpLengths[i]) || options.JumpLengths[i] < 0)
                failures.Add($"AlphaRLOptions.JumpLengths[{i}] = {Format(options.JumpLengths[i])} is invalid: a jump length must be finite and 0 or more (in window lengths).");
        if (options.TargetStep is null && !options.JumpLengths.Any(j => j > 0))
            failures.Add($"AlphaRLOptions.JumpLengths = [{string.Join(", ", options.JumpLengths.Select(j => Format(j)))}] is invalid: needs at least one length above 0 (0 alone never jumps).");
    }

    private static void CheckPatterns(IList<string>? patterns, string setting, List<string> failures)
    {
        if (patterns is null)
        {
            failures.Add($"AlphaRLOptions.{setting} = null is invalid: must be a list (possibly empty).");
            return;
        }
        for (int i = 0; i < patterns.Count; i++)
        {
            try
            {
                _ = new Regex(patterns[i] ?? throw new ArgumentNullException(setting));
            }
            catch (ArgumentException e)
            {
                failures.Add($"AlphaRLOptions.{setting}[{i}] = {Format(patterns[i])} is invalid: not a regular expression ({e.Message}).");
            }
        }
    }

    private static string Format(object? value) => value switch
    {
        null => "null",
        string s => $"\"{s}\"",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
