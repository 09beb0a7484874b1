using System.Runtime.InteropServices;
using System.Runtime.CompilerServices;
using AlphaRl.Checkpoints;

namespace AlphaRl.Cli;

/// <summary>
/// One matrix's weights in their stored form, read with one positioned read into a buffer reused from one matrix to
/// the next: BF16 tensors stay bit patterns for the bf16 kernels, F32 tensors are their floats, and a float32 view
/// (<see cref="Floats"/>) is decoded only when asked for (F16, mixed dtypes, or the float jump). Reading the stored
/// bytes without converting them is what keeps a pass over a checkpoint near the cost of reading it.
/// </summary>
internal sealed class StoredWeights
{
    private Memory<byte> _raw;
    private Memory<float> _decoded;
    private bool _hasDecoded;
    private bool? _finite;
    private CheckpointTensor? _tensor;

    /// <summary>The tensor last read.</summary>
    public CheckpointTensor Tensor => _tensor ?? throw new InvalidOperationException("No tensor has been read yet.");

    /// <summary>Whether the tensor last read is stored as bfloat16.</summary>
    public bool IsBFloat16 => Tensor.Info.DType == SafetensorsDType.BF16;

    /// <summary>The stored bytes of the tensor last read.</summary>
    private Span<byte> Raw => _raw.Span[..checked((int)Tensor.Info.ByteLength)];

    /// <summary>The bfloat16 bit patterns of the tensor last read (BF16 only).</summary>
    public ReadOnlySpan<ushort> Bits => IsBFloat16
        ? MemoryMarshal.Cast<byte, ushort>(Raw)
        : throw new InvalidOperationException($"Tensor '{Tensor.Info.Name}' is {Tensor.Info.DType}, not BF16.");

    /// <summary>The tensor last read as float32: the stored values themselves for F32 (writes change them), a decoded
    /// copy, made once per read, for F16 and BF16.</summary>
    public Span<float> Floats
    {
        get
        {
            var info = Tensor.Info;
            int count = checked((int)info.ElementCount);
            if (info.DType == SafetensorsDType.F32) return MemoryMarshal.Cast<byte, float>(Raw);
            if (!_hasDecoded)
            {
                if (_decoded.Length < count) _decoded = HugePages.Allocate<float>(count);
                FloatCodec.Decode(Raw, info.DType, _decoded.Span[..count]);
                _hasDecoded = true;
            }
            return _decoded.Span[..count];
        }
    }

    /// <summary>Reads a float tensor's stored bytes (no check of the values: the kernels that use them report NaN and
    /// infinity, and <see cref="Finite.Ensure"/> then names the element).</summary>
    public void Read(CheckpointTensor tensor)
    {
        if (!tensor.Info.DType.IsFloat())
            throw new CheckpointFormatException(tensor.File.Path, $"tensor '{tensor.Info.Name}' has dtype {tensor.Info.DType}; only F32, F16 and BF16 can be read as floats.");
        if (tensor.Info.ByteLength > Array.MaxLength)
            throw new CheckpointFormatException(tensor.File.Path, $"tensor '{tensor.Info.Name}' is {tensor.Info.ByteLength} bytes, too large to read in one piece.");
        int bytes = (int)tensor.Info.ByteLength;
        if (_raw.Length < bytes) _raw = HugePages.Allocate<byte>(bytes);
        _tensor = null;
        tensor.ReadRaw(_raw.Span[..bytes]);
        _tensor = tensor;
        _hasDecoded = false;
        _finite = null;
    }

    /// <summary>Whether the tensor last read holds only finite values; computed once per read, so that a thread
    /// reading ahead can do it while the caller works on the previous matrix.</summary>
    public bool IsFinite() => _finite ??= IsBFloat16
        ? AllFiniteBFloat16(Bits)
        : float.IsFinite(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude((ReadOnlySpan<float>)Floats));

    /// <summary>Throws, naming the file, tensor and element, when the tensor last read holds NaN or infinity.</summary>
    public void EnsureFinite(string where)
    {
        if (Tensor.Info.ElementCount == 0 || IsFinite()) return;
        Finite.Ensure(Floats, Tensor.File.Path, Tensor.Info.Name, where);
    }

    /// <summary>Whether no bfloat16 bit pattern is NaN or infinity (exponent bits all ones), a vector at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool AllFiniteBFloat16(ReadOnlySpan<ushort> bits)
    {
        const ushort exponent = 0x7F80;
        int i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            var mask = new System.Numerics.Vector<ushort>(exponent);
            var any = System.Numerics.Vector<ushort>.Zero;
            var vectors = MemoryMarshal.Cast<ushort, System.Numerics.Vector<ushort>>(bits);
            foreach (var v in vectors) any |= System.Numerics.Vector.Equals(v & mask, mask);
            if (any != System.Numerics.Vector<ushort>.Zero) return false;
            i = vectors.Length * System.Numerics.Vector<ushort>.Count;
        }
        for (; i < bits.Length; i++)
            if ((bits[i] & exponent) == exponent) return false;
        return true;
    }
}
