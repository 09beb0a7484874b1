namespace AlphaRl.Checkpoints;

/// <summary>
/// Writes a safetensors file one tensor at a time, in the order of its layout: the header first, then each tensor's
/// values as they are produced, so that memory is one tensor, not the file. Each write must hold exactly the next
/// tensor's values; <see cref="Complete"/> checks that every tensor was written. The caller writes to a temporary name
/// and renames it once complete.
/// </summary>
internal sealed class SafetensorsWriter : IDisposable
{
    private readonly FileStream _stream;
    private readonly List<TensorInfo> _tensors;
    private int _next;

    public SafetensorsWriter(string path, IReadOnlyList<(string Name, SafetensorsDType DType, long[] Shape)> layout)
    {
        _tensors = new List<TensorInfo>(layout.Count);
        long offset = 0;
        foreach (var (name, dtype, shape) in layout)
        {
            long count = shape.Aggregate(1L, (a, d) => checked(a * d));
            var info = new TensorInfo(name, dtype, shape, offset, checked(offset + count * dtype.Size()));
            _tensors.Add(info);
            offset = info.End;
        }
        _stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        _stream.Write(SafetensorsFile.SerializeHeader(_tensors, new Dictionary<string, string>()));
    }

    /// <summary>Writes the next tensor's values, encoded in its dtype.</summary>
    /// <exception cref="ArgumentException">The values are not the next tensor's count.</exception>
    public void Write(ReadOnlySpan<float> values)
    {
        if (_next >= _tensors.Count) throw new InvalidOperationException("Every tensor of the layout is written already.");
        var info = _tensors[_next];
        if (values.Length != info.ElementCount)
            throw new ArgumentException($"Tensor '{info.Name}' {info.ShapeText} holds {info.ElementCount} values; {values.Length} given.", nameof(values));
        SafetensorsFile.WriteFloats(_stream, values, info.DType);
        _next++;
    }

    /// <summary>Flushes the file to disk.</summary>
    /// <exception cref="InvalidOperationException">A tensor of the layout was not written.</exception>
    public void Complete()
    {
        if (_next != _tensors.Count)
            throw new InvalidOperationException($"{_tensors.Count - _next} tensor(s) of the layout were not written, from '{_tensors[_next].Name}' on.");
        _stream.Flush(flushToDisk: true);
    }

    public void Dispose() => _stream.Dispose();
}
