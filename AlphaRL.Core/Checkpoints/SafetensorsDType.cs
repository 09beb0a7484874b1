namespace AlphaRl.Checkpoints;

/// <summary>Element types of the safetensors format. Only <see cref="F32"/>, <see cref="F16"/> and <see cref="BF16"/>
/// can be read as floats; the others are recognised so that their tensors can be validated and copied byte for byte.</summary>
public enum SafetensorsDType
{
    /// <summary>Boolean, one byte.</summary>
    BOOL,
    /// <summary>Unsigned 8-bit integer.</summary>
    U8,
    /// <summary>Signed 8-bit integer.</summary>
    I8,
    /// <summary>8-bit float, 5 exponent bits.</summary>
    F8_E5M2,
    /// <summary>8-bit float, 4 exponent bits.</summary>
    F8_E4M3,
    /// <summary>Signed 16-bit integer.</summary>
    I16,
    /// <summary>Unsigned 16-bit integer.</summary>
    U16,
    /// <summary>IEEE half precision.</summary>
    F16,
    /// <summary>bfloat16: the upper half of an IEEE single.</summary>
    BF16,
    /// <summary>Signed 32-bit integer.</summary>
    I32,
    /// <summary>Unsigned 32-bit integer.</summary>
    U32,
    /// <summary>IEEE single precision.</summary>
    F32,
    /// <summary>IEEE double precision.</summary>
    F64,
    /// <summary>Signed 64-bit integer.</summary>
    I64,
    /// <summary>Unsigned 64-bit integer.</summary>
    U64,
}

/// <summary>Sizes and names of <see cref="SafetensorsDType"/> values.</summary>
public static class SafetensorsDTypes
{
    /// <summary>Bytes per element.</summary>
    public static int Size(this SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.BOOL or SafetensorsDType.U8 or SafetensorsDType.I8 or SafetensorsDType.F8_E5M2 or SafetensorsDType.F8_E4M3 => 1,
        SafetensorsDType.I16 or SafetensorsDType.U16 or SafetensorsDType.F16 or SafetensorsDType.BF16 => 2,
        SafetensorsDType.I32 or SafetensorsDType.U32 or SafetensorsDType.F32 => 4,
        SafetensorsDType.F64 or SafetensorsDType.I64 or SafetensorsDType.U64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown safetensors dtype."),
    };

    /// <summary>Whether tensors of this type can be read and written as floats (F32, F16, BF16).</summary>
    public static bool IsFloat(this SafetensorsDType dtype) =>
        dtype is SafetensorsDType.F32 or SafetensorsDType.F16 or SafetensorsDType.BF16;

    /// <summary>Parses the format's dtype string (case-sensitive, as the format spells it).</summary>
    public static bool TryParse(string? text, out SafetensorsDType dtype)
    {
        dtype = default;
        // Enum.TryParse would also accept numbers and other casings; the format allows only its exact names.
        if (text is null || text.Length == 0 || !char.IsAsciiLetterUpper(text[0])) return false;
        return Enum.TryParse(text, ignoreCase: false, out dtype) && dtype.ToString() == text;
    }
}
