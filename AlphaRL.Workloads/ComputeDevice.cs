using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace AlphaRl.Workloads;

/// <summary>
/// The device and weight dtype a run uses, parsed from the names the command lines and <see cref="RlRunSettings"/>
/// take: <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>; <c>fp32</c> or <c>bf16</c>. A CUDA device that this machine
/// lacks is refused with an error that names it.
/// </summary>
public static class ComputeDevice
{
    /// <summary>The device a run uses when none is named: the first CUDA device when CUDA is available, else the CPU.</summary>
    public static string DefaultName => cuda.is_available() ? "cuda:0" : "cpu";

    /// <summary>
    /// The device <paramref name="name"/> names (<c>cpu</c>, <c>cuda</c> for <c>cuda:0</c>, or <c>cuda:N</c>),
    /// after checking that this machine has it.
    /// </summary>
    /// <param name="name">The device's name.</param>
    /// <param name="label">What the name was given as, for the error message (an option or setting name).</param>
    /// <exception cref="ArgumentException">The name is not a device, or this machine has no such CUDA device.</exception>
    public static Device Parse(string name, string label = "Device")
    {
        bool available = cuda.is_available();
        return Parse(name, label, available, available ? cuda.device_count() : 0);
    }

    /// <summary><see cref="Parse(string, string)"/> against a given CUDA availability (tests).</summary>
    internal static Device Parse(string name, string label, bool cudaAvailable, int cudaDevices)
    {
        ArgumentNullException.ThrowIfNull(name);
        string text = name.Trim().ToLowerInvariant();
        if (text == "cpu") return CPU;
        int index = 0;
        if (text != "cuda" && !(text.StartsWith("cuda:", StringComparison.Ordinal)
                && int.TryParse(text.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out index)))
            throw new ArgumentException($"{label} \"{name}\" is not a device: use cpu, cuda or cuda:N (N = 0, 1, ...).");
        if (!cudaAvailable)
            throw new ArgumentException($"{label} {name}: CUDA is not available on this machine (torch.cuda.is_available() is false). " +
                "Build with a CUDA bundle (-p:TorchBundle=TorchSharp-cuda-windows or TorchSharp-cuda-linux) on a machine with an NVIDIA GPU and driver, or use cpu.");
        if (index >= cudaDevices)
            throw new ArgumentException($"{label} {name}: only {cudaDevices} CUDA device{(cudaDevices == 1 ? "" : "s")} on this machine (cuda:0{(cudaDevices > 1 ? $" to cuda:{cudaDevices - 1}" : "")}).");
        return new Device(DeviceType.CUDA, index);
    }

    /// <summary>The dtype <paramref name="name"/> names: <c>fp32</c> (float32) or <c>bf16</c> (bfloat16).</summary>
    /// <exception cref="ArgumentException">The name is neither.</exception>
    public static ScalarType ParseDType(string name, string label = "DType")
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant() switch
        {
            "fp32" or "float32" => ScalarType.Float32,
            "bf16" or "bfloat16" => ScalarType.BFloat16,
            _ => throw new ArgumentException($"{label} \"{name}\" is not a weight dtype: use fp32 or bf16."),
        };
    }

    /// <summary>A short name of a device and dtype for logs and reports, e.g. <c>cuda:0, bf16</c>.</summary>
    public static string Describe(Device device, ScalarType dtype)
    {
        ArgumentNullException.ThrowIfNull(device);
        string where = device.type == DeviceType.CUDA ? $"cuda:{Math.Max(0, device.index)}" : device.type.ToString().ToLowerInvariant();
        return $"{where}, {(dtype == ScalarType.BFloat16 ? "bf16" : dtype == ScalarType.Float32 ? "fp32" : dtype.ToString())}";
    }
}
