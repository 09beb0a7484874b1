using System.Diagnostics.Metrics;
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
    /// copy of the options; an <see cref="IMeterFactory"/> in the container creates the sessions' meters.
    /// </summary>
    /// <example><code>services.AddAlphaRL(o => { o.SnapshotInterval = 5; o.MaxJumps = 3; });</code></example>
    public static IServiceCollection AddAlphaRL(this IServiceCollection services, Action<AlphaRLOptions>? configure = null) =>
        services.AddAlphaRL(Options.Options.DefaultName, configure);

    /// <summary>
    /// Adds named <see cref="AlphaRLOptions"/> for sessions started with <see cref="IAlphaRLFactory.Accelerate(nn.Module, string)"/>,
    /// so that several sessions in one process (e.g. "actor" and "critic") have their own settings. Validated at start.
    /// </summary>
    /// <example><code>services.AddAlphaRL("actor", o => o.MaxJumps = 3).AddAlphaRL("critic", o => o.MaxJumps = 0);</code></example>
    public static IServiceCollection AddAlphaRL(this IServiceCollection services, string name, Action<AlphaRLOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(name);
        var builder = services.AddOptions<AlphaRLOptions>(name);
        if (configure is not null) builder.Configure(configure);
        builder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AlphaRLOptions>, AlphaRLOptionsValidator>());
        services.TryAddSingleton<IAlphaRLFactory, AlphaRLFactory>();
        return services;
    }

    private sealed class AlphaRLFactory(IOptionsMonitor<AlphaRLOptions> options, ILoggerFactory? loggerFactory = null, IMeterFactory? meterFactory = null)
        : IAlphaRLFactory
    {
        public AlphaRLSession Accelerate(nn.Module policy) => Accelerate(policy, Options.Options.DefaultName);

        public AlphaRLSession Accelerate(nn.Module policy, string name)
        {
            ArgumentNullException.ThrowIfNull(name);
            return new AlphaRLSession(policy, options.Get(name), loggerFactory?.CreateLogger("AlphaRL"), null, meterFactory, name);
        }

        public AlphaRLSession Resume(nn.Module policy, string folder, string? name = null) =>
            AlphaRLSession.Resume(policy, folder, options.Get(name ?? Options.Options.DefaultName), loggerFactory?.CreateLogger("AlphaRL"), meterFactory, name ?? "");
    }
}
