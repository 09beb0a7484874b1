using System.Diagnostics.Metrics;
using AlphaRl.Extrapolation;
using Microsoft.Extensions.Logging;
using TorchSharp.Modules;

namespace AlphaRl.TorchSharp;

/// <summary>
/// Behaviour a session uses beside its settings (<see cref="AlphaRLOptions"/> are data only). Every member is optional.
/// With dependency injection the factory fills it from the container: an <see cref="IExtrapolator"/> registered under the
/// session's name (a keyed service) or without a key, the <see cref="ILoggerFactory"/> and the <see cref="IMeterFactory"/>.
/// </summary>
public sealed record SessionServices
{
    /// <summary>Where to log coverage, fits and jumps; nothing is logged when null.</summary>
    public ILogger? Logger { get; init; }

    /// <summary>Creates the session's meters; a private meter when null.</summary>
    public IMeterFactory? MeterFactory { get; init; }

    /// <summary>
    /// The trajectory fit of the rank-1 vectors. Default (null): a least-squares line in the step
    /// (<see cref="StepLineExtrapolator"/>, holding out <see cref="AttemptOptions.HoldOutFraction"/>);
    /// <see cref="MetricPlsExtrapolator"/> fits against a metric you record per snapshot step instead.
    /// </summary>
    public IExtrapolator? Extrapolator { get; init; }

    /// <summary>
    /// A predicate that replaces the default coverage rule and <see cref="AlphaRLOptions.Coverage"/>'s patterns entirely;
    /// it is offered only trainable 2-D tensors.
    /// </summary>
    public Func<string, Parameter, bool>? Cover { get; init; }
}
