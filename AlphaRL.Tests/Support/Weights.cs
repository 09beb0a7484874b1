using AlphaRl.TorchSharp.Tracking;
using TorchSharp;
using static TorchSharp.torch;

namespace AlphaRl.Tests.Support;

internal static class Weights
{
    public static Dictionary<string, byte[]> Snapshot(nn.Module module) =>
        module.named_parameters().ToDictionary(p => p.name, p => Synthetic.Bytes(p.parameter));

    public static void AssertIdentical(nn.Module module, Dictionary<string, byte[]> expected)
    {
        foreach (var (name, parameter) in module.named_parameters())
            Assert.That(Synthetic.Bytes(parameter), Is.EqualTo(expected[name]), $"parameter {name} must be bit-identical");
    }

    public static List<CoveredMatrix> Covered(nn.Module module) =>
        module.named_parameters().Where(p => p.parameter.dim() == 2 && !p.name.Contains("embed") && !p.name.Contains("head"))
            .Select(p => new CoveredMatrix(p.name, p.parameter)).ToList();

    /// <summary>Sets a parameter's values in place (no autograd).</summary>
    public static void Set(Tensor parameter, Tensor value)
    {
        using var noGrad = no_grad();
        parameter.copy_(value);
    }

    /// <summary>Resident set size of this process in bytes (Linux), from /proc/self/status.</summary>
    public static long ResidentBytes()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        throw new InvalidOperationException("VmRSS not found in /proc/self/status");
    }
}
