using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace AlphaRl.TorchSharp;

/// <summary>The entry point: attach AlphaRL to a policy in any TorchSharp training loop.</summary>
/// <example>
/// <code>
/// using AlphaRl.TorchSharp;
///
/// using var alpha = AlphaRL.Accelerate(policy, o => o.Snapshots.Interval = 5);
/// for (int step = 1; step &lt;= 300; step++)
/// {
///     optimizer.zero_grad(); loss.backward(); optimizer.step();          // your PPO/GRPO step
///     var outcome = alpha.Step(step, () => EvaluateOnHeldOutPrompts());
///     if (outcome.Action == StepAction.JumpKept) optimizer = NewAdamW(policy);
/// }
/// </code>
/// </example>
public static class AlphaRL
{
    /// <summary>Starts a session on <paramref name="policy"/>: copies W0 of the covered matrices and begins the first window.</summary>
    /// <param name="policy">The model being trained; its parameters are tracked and may be changed in place by jumps.</param>
    /// <param name="options">Settings; defaults when null. Validated: every invalid setting is reported in one exception.</param>
    /// <param name="logger">Where to log coverage, fits and jumps; nothing is logged when null.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">Some settings are invalid.</exception>
    /// <exception cref="AlphaRLException">The module has no parameter to cover.</exception>
    public static AlphaRLSession Accelerate(nn.Module policy, AlphaRLOptions? options = null, ILogger? logger = null) =>
        new(policy, options ?? new AlphaRLOptions(), new SessionServices { Logger = logger });

    /// <summary>Starts a session with behaviour beside the settings: a logger, meters, a custom trajectory fit or coverage predicate.</summary>
    /// <param name="policy">The model being trained.</param>
    /// <param name="options">Settings; defaults when null.</param>
    /// <param name="services">Behaviour (<see cref="SessionServices"/>).</param>
    public static AlphaRLSession Accelerate(nn.Module policy, AlphaRLOptions? options, SessionServices services)
    {
        ArgumentNullException.ThrowIfNull(services);
        return new(policy, options ?? new AlphaRLOptions(), services);
    }

    /// <summary>Starts a session with options set by <paramref name="configure"/> on top of the defaults.</summary>
    /// <param name="policy">The model being trained.</param>
    /// <param name="configure">Changes to the default settings.</param>
    /// <param name="logger">Where to log; nothing is logged when null.</param>
    public static AlphaRLSession Accelerate(nn.Module policy, Action<AlphaRLOptions> configure, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var options = new AlphaRLOptions();
        configure(options);
        return new AlphaRLSession(policy, options, new SessionServices { Logger = logger });
    }

    /// <summary>
    /// Resumes a session saved by <see cref="AlphaRLSession.Save"/> on <paramref name="policy"/>, which must already hold
    /// the weights it had when the session was saved (load the run's checkpoint of that step first). The saved state is
    /// checked against the policy — covered names, order, shapes and dtypes — and against <paramref name="options"/>,
    /// and any mismatch is reported in one <see cref="AlphaRLException"/> naming it. Then Step continues from the saved
    /// step: a run interrupted and resumed this way ends with the same weights, bit for bit, as one that was not.
    /// </summary>
    /// <param name="policy">The model being trained, at the saved step's weights.</param>
    /// <param name="folder">The folder <see cref="AlphaRLSession.Save"/> wrote.</param>
    /// <param name="options">Settings; null: the saved effective settings. When given, the settings that shape the state
    /// (Snapshots.Interval, Snapshots.Max, Attempts.MinSnapshots, Attempts.Schedule, Jumps.Methods) must equal the saved
    /// ones; the others (e.g. Guard.Tolerance, Attempts.MaxJumps, Jumps.Lengths) may change. Sessions saved in an earlier
    /// state format (version 1, flat settings) are read and migrated.</param>
    /// <param name="logger">Where to log; nothing is logged when null.</param>
    /// <exception cref="AlphaRLException">The folder is not a saved session, or it does not match the policy or the options.</exception>
    public static AlphaRLSession Resume(nn.Module policy, string folder, AlphaRLOptions? options = null, ILogger? logger = null) =>
        AlphaRLSession.Resume(policy, folder, options, new SessionServices { Logger = logger }, null);

    /// <summary><see cref="Resume(nn.Module, string, AlphaRLOptions?, ILogger?)"/> with behaviour beside the settings
    /// (a custom trajectory fit or coverage predicate must be passed again: behaviour is not saved).</summary>
    public static AlphaRLSession Resume(nn.Module policy, string folder, AlphaRLOptions? options, SessionServices services)
    {
        ArgumentNullException.ThrowIfNull(services);
        return AlphaRLSession.Resume(policy, folder, options, services, null);
    }
}
