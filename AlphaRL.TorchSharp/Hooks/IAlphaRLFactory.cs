using static TorchSharp.torch;

namespace AlphaRl.TorchSharp;

/// <summary>Attaches AlphaRL sessions to policies with the options registered by <c>services.AddAlphaRL(...)</c>.</summary>
public interface IAlphaRLFactory
{
    /// <summary>Starts a session on <paramref name="policy"/> with the registered (default-named) options and logger.</summary>
    AlphaRLSession Accelerate(nn.Module policy);

    /// <summary>
    /// Starts a session on <paramref name="policy"/> with the options registered under <paramref name="name"/>
    /// (<c>services.AddAlphaRL("critic", o => ...)</c>), e.g. one session for the actor and one for the critic. The
    /// session's metrics and spans are tagged with the name.
    /// </summary>
    AlphaRLSession Accelerate(nn.Module policy, string name) =>
        name == Microsoft.Extensions.Options.Options.DefaultName ? Accelerate(policy)
            : throw new NotSupportedException($"This {nameof(IAlphaRLFactory)} does not support named options ('{name}').");

    /// <summary>Resumes a session saved by <see cref="AlphaRLSession.Save"/> with the options registered under <paramref name="name"/>
    /// (which must match the saved session's, see <see cref="AlphaRL.Resume(nn.Module, string, AlphaRLOptions?, Microsoft.Extensions.Logging.ILogger?)"/>).</summary>
    AlphaRLSession Resume(nn.Module policy, string folder, string? name = null) =>
        throw new NotSupportedException($"This {nameof(IAlphaRLFactory)} does not support resuming.");
}
