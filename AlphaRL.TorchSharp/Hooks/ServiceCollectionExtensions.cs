using System.Diagnostics.Metrics;
using AlphaRl;
using AlphaRl.Extrapolation;
using AlphaRl.TorchSharp;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using static TorchSharp.torch;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers AlphaRL with a service collection.</summary>
public static class AlphaRLServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="AlphaRLOptions"/> (validated at start: every invalid setting is reported together) and an
    /// <see cref="IAlphaRLFactory"/> that attaches sessions to policies with those options. Each session gets its own
    /// copy of the options; an <see cref="IMeterFactory"/> in the container creates the sessions' meters, and an
    /// <see cref="IExtrapolator"/> (keyed by the settings' name, or unkeyed) replaces the default trajectory fit.
    /// </summary>
    /// <example><code>services.AddAlphaRL(o => { o.Snapshots.Interval = 5; o.Attempts.MaxJumps = 3; });</code></example>
    public static IServiceCollection AddAlphaRL(this IServiceCollection services, Action<AlphaRLOptions>? configure = null) =>
        services.AddAlphaRL(Options.Options.DefaultName, configure);

    /// <summary>
    /// Adds named <see cref="AlphaRLOptions"/> for sessions started with <see cref="IAlphaRLFactory.Accelerate(nn.Module, string)"/>,
    /// so that several sessions in one process (e.g. "actor" and "critic") have their own settings. Validated at start.
    /// </summary>
    /// <example><code>services.AddAlphaRL("actor", o => o.Attempts.MaxJumps = 3).AddAlphaRL("critic", o => o.Attempts.MaxJumps = 0);</code></example>
    public static IServiceCollection AddAlphaRL(this IServiceCollection services, string name, Action<AlphaRLOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(name);
        var builder = services.AddOptions<AlphaRLOptions>(name);
        if (configure is not null) builder.Configure(configure);
        builder.ValidateOnStart();
        services.AddSingleton(new RegisteredName(name));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AlphaRLOptions>, AlphaRLOptionsValidator>());
        services.TryAddSingleton<IAlphaRLFactory, AlphaRLFactory>();
        return services;
    }

    /// <summary>A name settings were registered under, so that the factory can refuse names that were not.</summary>
    private sealed record RegisteredName(string Name);

    private sealed class AlphaRLFactory(IServiceProvider provider, IOptionsMonitor<AlphaRLOptions> options, IEnumerable<RegisteredName> registered)
        : IAlphaRLFactory
    {
        private readonly HashSet<string> _names = registered.Select(r => r.Name).ToHashSet(StringComparer.Ordinal);

        public AlphaRLSession Accelerate(nn.Module policy) => Accelerate(policy, Options.Options.DefaultName);

        public AlphaRLSession Accelerate(nn.Module policy, string name) => new(policy, Settings(name), Services(name), name);

        public AlphaRLSession Resume(nn.Module policy, string folder, string? name = null) =>
            AlphaRLSession.Resume(policy, folder, Settings(name ?? Options.Options.DefaultName), Services(name ?? Options.Options.DefaultName), name ?? "");

        /// <summary>The settings registered under <paramref name="name"/>; a name never registered is an error (a typo would otherwise run with the defaults).</summary>
        private AlphaRLOptions Settings(string name)
        {
            ArgumentNullException.ThrowIfNull(name);
            if (!_names.Contains(name))
                throw new AlphaRLException($"No AlphaRL settings are registered under the name \"{name}\"; registered: {string.Join(", ", _names.Order(StringComparer.Ordinal).Select(n => n.Length == 0 ? "the default (unnamed)" : $"\"{n}\""))}. Register it with services.AddAlphaRL(\"{name}\", o => ...).");
            return options.Get(name);
        }

        /// <summary>Behaviour from the container: an IExtrapolator keyed by the session's name, else an unkeyed one; the logger and meter factories.</summary>
        private SessionServices Services(string name) => new()
        {
            Logger = provider.GetService<ILoggerFactory>()?.CreateLogger("AlphaRL"),
            MeterFactory = provider.GetService<IMeterFactory>(),
            Extrapolator = provider.GetKeyedService<IExtrapolator>(name) ?? provider.GetService<IExtrapolator>(),
        };
    }
}
