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
        Require(double.IsFinite(options.GuardTolerance) && options.GuardTolerance >= 0, nameof(options.GuardTolerance), options.GuardTolerance, "must be a finite number, 0 or more");
        Require(Enum.IsDefined(options.JumpForm), nameof(options.JumpForm), options.JumpForm, "must be Increment, AddToLast or AddToBase");
        Require(Enum.IsDefined(options.Uncovered), nameof(options.Uncovered), options.Uncovered, "must be Keep or Extrapolate");
        Require(options.PowerIteration is not null, nameof(options.PowerIteration), options.PowerIteration, "must be set");
        if (options.PowerIteration is not null)
        {
            Require(options.PowerIteration.Tolerance > 0 && float.IsFinite(options.PowerIteration.Tolerance), "PowerIteration.Tolerance", options.PowerIteration.Tolerance, "must be a positive finite number");
            Require(options.PowerIteration.MaxIterations >= 1, "PowerIteration.MaxIterations", options.PowerIteration.MaxIterations, "must be at least 1");
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
