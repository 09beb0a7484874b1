using AlphaRl.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace AlphaRl.TorchSharp.State;

/// <summary>Named tensors of a session's state, written to and read from one safetensors file, bit-exact in their dtype.</summary>
internal static class StateTensors
{
    public static void Write(string path, IReadOnlyList<(string Name, Tensor Tensor)> tensors)
    {
        var infos = new List<TensorInfo>(tensors.Count);
        long offset = 0;
        foreach (var (name, t) in tensors)
        {
            long length = t.NumberOfElements * t.ElementSize;
            infos.Add(new TensorInfo(name, ToSafetensors(name, t.dtype), t.shape.ToArray(), offset, offset + length));
            offset += length;
        }
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        stream.Write(SafetensorsFile.SerializeHeader(infos, new Dictionary<string, string> { ["format"] = "alpharl-session" }));
        foreach (var (_, t) in tensors)
        {
            // One tensor at a time in host memory.
            using var scope = NewDisposeScope();
            stream.Write(t.detach().cpu().contiguous().bytes);
        }
        stream.Flush(flushToDisk: true);
    }

    /// <summary>Reads every tensor into host memory; the caller owns (disposes) them.</summary>
    public static Dictionary<string, Tensor> Read(string path)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            using var file = SafetensorsFile.Open(path);
            foreach (var info in file.Tensors)
            {
                using var buffer = new MemoryStream((int)info.ByteLength);
                file.CopyRawTo(info, buffer);
                var t = empty(info.Shape, FromSafetensors(path, info));
                buffer.GetBuffer().AsSpan(0, (int)buffer.Length).CopyTo(t.bytes);
                result.Add(info.Name, t);
            }
            return result;
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
    }

    public static string DTypeName(ScalarType dtype) => dtype.ToString();

    private static SafetensorsDType ToSafetensors(string name, ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => SafetensorsDType.F32,
        ScalarType.Float16 => SafetensorsDType.F16,
        ScalarType.BFloat16 => SafetensorsDType.BF16,
        ScalarType.Float64 => SafetensorsDType.F64,
        _ => throw new AlphaRLException($"Session state tensor '{name}' has dtype {dtype}; only float32, float16, bfloat16 and float64 can be saved."),
    };

    private static ScalarType FromSafetensors(string path, TensorInfo info) => info.DType switch
    {
        SafetensorsDType.F32 => ScalarType.Float32,
        SafetensorsDType.F16 => ScalarType.Float16,
        SafetensorsDType.BF16 => ScalarType.BFloat16,
        SafetensorsDType.F64 => ScalarType.Float64,
        _ => throw new AlphaRLException($"{path}: tensor '{info.Name}' has dtype {info.DType}, which a session state never holds."),
    };
}
