using static TorchSharp.torch;

namespace AlphaRl.TorchSharp;

/// <summary>Attaches AlphaRL sessions to policies with the options registered by <c>services.AddAlphaRL(...)</c>.</summary>
public interface IAlphaRLFactory
{
    /// <summary>Starts a session on <paramref name="policy"/> with the registered options and logger.</summary>
    AlphaRLSession Accelerate(nn.Module policy);
}
