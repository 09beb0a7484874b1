namespace AlphaRl.Checkpoints;

/// <summary>One tensor's entry in a safetensors header.</summary>
/// <param name="Name">Tensor name, e.g. <c>model.layers.0.self_attn.q_proj.weight</c>.</param>
/// <param name="DType">Element type.</param>
/// <param name="Shape">Dimensions, outermost first (row-major).</param>
/// <param name="Begin">First byte, relative to the start of the data section.</param>
/// <param name="End">One past the last byte, relative to the start of the data section.</param>
public sealed record TensorInfo(string Name, SafetensorsDType DType, long[] Shape, long Begin, long End)
{
    /// <summary>Number of elements (the product of the shape; 1 for a scalar).</summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (long d in Shape) n *= d;
            return n;
        }
    }

    /// <summary>Bytes of the tensor's data.</summary>
    public long ByteLength => End - Begin;

    /// <summary>Whether the tensor is a matrix (two dimensions).</summary>
    public bool IsMatrix => Shape.Length == 2;

    /// <summary>The shape as text, e.g. <c>[1024, 4096]</c>.</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";

    /// <summary>Whether two entries describe the same dtype and shape.</summary>
    public bool SameLayout(TensorInfo other) => DType == other.DType && Shape.AsSpan().SequenceEqual(other.Shape);
}
