using Microsoft.Extensions.Options;

namespace AlphaRl.TorchSharp;

/// <summary>Checks every setting of <see cref="AlphaRLOptions"/> and reports all failures at once, each naming the setting by its path and its value.</summary>
public sealed class AlphaRLOptionsValidator : IValidateOptions<AlphaRLOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, AlphaRLOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new OptionErrors();
        bool groups = errors.Require(options.Snapshots is not null, "Snapshots", null, "must be set")
            & errors.Require(options.Attempts is not null, "Attempts", null, "must be set")
            & errors.Require(options.Jumps is not null, "Jumps", null, "must be set")
            & errors.Require(options.Guard is not null, "Guard", null, "must be set")
            & errors.Require(options.Coverage is not null, "Coverage", null, "must be set");
        if (groups)
        {
            options.Attempts!.Validate(errors);
            options.Snapshots!.Validate(errors, options.Attempts.MinSnapshots);
            options.Jumps!.Validate(errors, options.Attempts.MinSnapshots);
            options.Guard!.Validate(errors);
            options.Coverage!.Validate(errors);
        }
        return errors.Failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors.Failures);
    }

    /// <summary>Validates and throws <see cref="OptionsValidationException"/> listing every failure.</summary>
    internal static void ThrowIfInvalid(AlphaRLOptions options)
    {
        var result = new AlphaRLOptionsValidator().Validate(Options.DefaultName, options);
        if (result.Failed)
            throw new OptionsValidationException(Options.DefaultName, typeof(AlphaRLOptions), result.Failures);
    }
}
