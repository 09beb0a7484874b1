using System.Numerics.Tensors;
using AlphaRl.Checkpoints;
using AlphaRl.Tracking;

namespace AlphaRl.Cli;

/// <summary>Checks that turn non-finite weights, and failures of the math on a matrix, into errors naming the file,
/// the tensor and the step.</summary>
internal static class Finite
{
    /// <summary>Throws when <paramref name="values"/> holds NaN or infinity, naming the file, the tensor, which weights
    /// these are (<paramref name="where"/>, e.g. "at step 20" or "of the base (W0, step 0)") and the first such element,
    /// counted from <paramref name="firstElement"/> when the values are a slice of the tensor.</summary>
    public static void Ensure(ReadOnlySpan<float> values, string file, string tensor, string where, long firstElement = 0)
    {
        // MaxMagnitude is NaN when any value is NaN and infinite when any is infinite: one vectorized pass.
        if (values.IsEmpty || float.IsFinite(TensorPrimitives.MaxMagnitude(values))) return;
        int i = 0;
        while (float.IsFinite(values[i])) i++;
        throw new CheckpointFormatException(file, $"tensor '{tensor}' {where} holds {values[i]} at element {firstElement + i}; the weights must be finite.");
    }

    /// <summary>Checks, a slice at a time, that a stored tensor about to be copied unchanged into an output holds only
    /// finite values (a tensor that is not F32, F16 or BF16 passes): no output holds NaN or infinity, not even one its
    /// input had.</summary>
    /// <exception cref="CheckpointFormatException">A value is NaN or infinite; names the file, the tensor, <paramref name="where"/> and the element.</exception>
    public static void EnsureStored(CheckpointTensor tensor, string where)
    {
        if (!tensor.Info.DType.IsFloat() || tensor.Info.ElementCount == 0) return;
        var buffer = System.Buffers.ArrayPool<float>.Shared.Rent((int)Math.Min(tensor.Info.ElementCount, 1 << 20));
        try
        {
            for (long offset = 0; offset < tensor.Info.ElementCount; offset += buffer.Length)
            {
                var slice = buffer.AsSpan(0, (int)Math.Min(buffer.Length, tensor.Info.ElementCount - offset));
                tensor.ReadFloats(offset, slice);
                if (float.IsFinite(TensorPrimitives.MaxMagnitude(slice))) continue;
                int i = 0;
                while (float.IsFinite(slice[i])) i++;
                throw new CheckpointFormatException(tensor.File.Path, $"tensor '{tensor.Info.Name}' {where} holds {slice[i]} at element {offset + i}, " +
                    "and would be copied into the output unchanged; the weights must be finite. Nothing was written.");
            }
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(buffer);
        }
    }

    /// <summary>Reads a float tensor into <paramref name="destination"/> (at least its element count) and checks, with
    /// <see cref="Ensure"/>, that the values read are finite.</summary>
    public static void Read(CheckpointTensor tensor, Span<float> destination, string where)
    {
        tensor.ReadFloats(destination);
        Ensure(destination[..checked((int)tensor.Info.ElementCount)], tensor.File.Path, tensor.Info.Name, where);
    }

    /// <summary>Records the top triplet of W_t − W0 straight from the stored weights (the bf16 difference kernel when
    /// both are BF16, the float32 one otherwise), warm-started by the tracker. The kernels report NaN or infinity
    /// without saying where: then the weights holding it are named, W0 first (<paramref name="baseWhere"/>), then W_t.</summary>
    public static Rank1Snapshot ObserveDifference(SubspaceTracker tracker, StoredWeights initial, string baseWhere, StoredWeights current, long step, int rows, int cols)
    {
        string name = current.Tensor.Info.Name;
        try
        {
            return initial.IsBFloat16 && current.IsBFloat16
                ? tracker.ObserveDifferenceBFloat16(name, step, current.Bits, initial.Bits, rows, cols)
                : tracker.ObserveDifference(name, step, current.Floats, initial.Floats, rows, cols);
        }
        catch (AlphaRLException e) when (e is not CheckpointFormatException)
        {
            initial.EnsureFinite(baseWhere);
            current.EnsureFinite($"at step {step}");
            throw new CheckpointFormatException(current.Tensor.File.Path, $"tensor '{name}' at step {step}: {e.Message}");
        }
    }
}
