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
    /// <see cref="IAlphaRLFactory"/> that attaches sessions to policies with those options.
    /// </summary>
    /// <example><code>services.AddAlphaRL(o => { o.SnapshotInterval = 5; o.MaxJumps = 3; });</code></example>
    public static IServiceCollection AddAlphaRL(this IServiceCollection services, Action<AlphaRLOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = services.AddOptions<AlphaRLOptions>();
        if (configure is not null) builder.Configure(configure);
        builder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AlphaRLOptions>, AlphaRLOptionsValidator>());
        services.TryAddSingleton<IAlphaRLFactory, AlphaRLFactory>();
        return services;
    }

    private sealed class AlphaRLFactory(IOptions<AlphaRLOptions> options, ILoggerFactory? loggerFactory = null) : IAlphaRLFactory
    {
        public AlphaRLSession Accelerate(nn.Module policy) =>
            AlphaRL.Accelerate(policy, options.Value, loggerFactory?.CreateLogger("AlphaRL"));
    }
}
