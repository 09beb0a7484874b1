using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace AlphaRl.Checkpoints;

/// <summary>
/// One safetensors file, opened read-only, whose header has been validated against the format's rules before any
/// tensor is read: every later read stays inside the file. Tensors are read one at a time with positioned reads
/// (<see cref="RandomAccess.Read(Microsoft.Win32.SafeHandles.SafeFileHandle, Span{byte}, long)"/>) straight into the
/// caller's buffer, so the process's resident memory holds a few tensors, not the file, and a file that shrinks
/// while it is read is reported as an error rather than faulting as a memory map would.
/// </summary>
/// <example>
/// <code>
/// using var file = SafetensorsFile.Open("model.safetensors");
/// var q = file.Tensor("model.layers.0.self_attn.q_proj.weight");
/// var values = new float[q.ElementCount];
/// file.ReadFloats(q, values);
/// </code>
/// </example>
public sealed class SafetensorsFile : IDisposable
{
    /// <summary>Largest header accepted (100 MB, the reference implementation's cap).</summary>
    public const long MaxHeaderBytes = 100L * 1024 * 1024;

    /// <summary>The key under which the format keeps free-form string metadata.</summary>
    public const string MetadataKey = "__metadata__";

    private const int CopyChunkBytes = 4 << 20;

    private readonly FileStream? _file;
    private readonly Dictionary<string, TensorInfo> _byName;

    private SafetensorsFile(string path, long dataStart, long dataLength, List<TensorInfo> tensors,
        Dictionary<string, string> metadata, FileStream? file)
    {
        Path = path;
        DataStart = dataStart;
        DataLength = dataLength;
        Tensors = tensors;
        Metadata = metadata;
        _file = file;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>Path of the file.</summary>
    public string Path { get; }

    /// <summary>Byte position of the data section in the file (8 + header length).</summary>
    public long DataStart { get; }

    /// <summary>Bytes of the data section.</summary>
    public long DataLength { get; }

    /// <summary>The tensors, in the order of their data (ascending offsets).</summary>
    public IReadOnlyList<TensorInfo> Tensors { get; }

    /// <summary>The header's <c>__metadata__</c> strings (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Opens and validates a safetensors file.</summary>
    /// <param name="path">Path of the file.</param>
    /// <exception cref="CheckpointFormatException">The file breaks a rule of the format; the message says which.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static SafetensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        // Tensors are mostly read in file order, a whole tensor per read: the hint for sequential reading lets the OS
        // read ahead from disk (the hint for random access, used before, turned read-ahead off: 2-3x slower from disk).
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        try
        {
            var (tensors, metadata, dataStart, dataLength) = ReadHeader(path, stream);
            if (dataLength == 0) // nothing to read later
            {
                stream.Dispose();
                return new SafetensorsFile(path, dataStart, dataLength, tensors, metadata, null);
            }
            return new SafetensorsFile(path, dataStart, dataLength, tensors, metadata, stream);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    private static (List<TensorInfo> Tensors, Dictionary<string, string> Metadata, long DataStart, long DataLength) ReadHeader(string path, FileStream stream)
    {
        long fileLength = stream.Length;
        if (fileLength < 8)
            throw new CheckpointFormatException(path, $"file is {fileLength} bytes long, shorter than the 8-byte header length that starts every safetensors file.");
        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderBytes)
            throw new CheckpointFormatException(path, $"header length {headerLength} bytes is above the cap of {MaxHeaderBytes} bytes.");
        if ((long)headerLength > fileLength - 8)
            throw new CheckpointFormatException(path, $"header length {headerLength} bytes runs beyond the end of the file ({fileLength} bytes).");
        var header = new byte[headerLength];
        stream.ReadExactly(header);
        long dataStart = 8 + (long)headerLength;
        long dataLength = fileLength - dataStart;
        var (tensors, metadata) = ParseHeader(path, header, dataLength);
        return (tensors, metadata, dataStart, dataLength);
    }

    /// <summary>Whether the file holds a tensor of that name.</summary>
    public bool TryGetTensor(string name, out TensorInfo info) => _byName.TryGetValue(name, out info!);

    /// <summary>The entry of a tensor.</summary>
    /// <exception cref="CheckpointFormatException">No tensor of that name.</exception>
    public TensorInfo Tensor(string name) =>
        TryGetTensor(name, out var info) ? info : throw new CheckpointFormatException(Path, $"has no tensor named '{name}'.");

    /// <summary>Reads an F32, F16 or BF16 tensor of this file into <paramref name="destination"/> as floats.</summary>
    /// <param name="tensor">An entry of this file.</param>
    /// <param name="destination">At least <see cref="TensorInfo.ElementCount"/> floats; exactly that many are written.</param>
    public void ReadFloats(TensorInfo tensor, Span<float> destination)
    {
        CheckOwn(tensor);
        if (!tensor.DType.IsFloat())
            throw new CheckpointFormatException(Path, $"tensor '{tensor.Name}' has dtype {tensor.DType}; only F32, F16 and BF16 can be read as floats.");
        long count = tensor.ElementCount;
        if (destination.Length < count)
            throw new ArgumentException($"Destination holds {destination.Length} floats; tensor '{tensor.Name}' has {count}.", nameof(destination));
        if (tensor.ByteLength > Array.MaxLength)
            throw new CheckpointFormatException(Path, $"tensor '{tensor.Name}' is {tensor.ByteLength} bytes, too large to read in one piece.");
        ReadFloats(tensor, 0, destination[..(int)count]);
    }

    /// <summary>Reads a contiguous slice of an F32, F16 or BF16 tensor (in row-major element order) as floats, so that
    /// tensors of any size can be processed in bounded memory.</summary>
    /// <param name="tensor">An entry of this file.</param>
    /// <param name="firstElement">Index of the first element to read.</param>
    /// <param name="destination">Receives <c>destination.Length</c> elements starting at <paramref name="firstElement"/>.</param>
    public void ReadFloats(TensorInfo tensor, long firstElement, Span<float> destination)
    {
        CheckOwn(tensor);
        if (!tensor.DType.IsFloat())
            throw new CheckpointFormatException(Path, $"tensor '{tensor.Name}' has dtype {tensor.DType}; only F32, F16 and BF16 can be read as floats.");
        long count = tensor.ElementCount;
        if (firstElement < 0 || firstElement > count || destination.Length > count - firstElement)
            throw new ArgumentOutOfRangeException(nameof(firstElement), $"Elements {firstElement}..{firstElement + destination.Length} lie outside tensor '{tensor.Name}' ({count} elements).");
        int size = tensor.DType.Size();
        long begin = tensor.Begin + firstElement * size;
        int bytes = checked(destination.Length * size);
        if (tensor.DType == SafetensorsDType.F32)
        {
            ReadBytes(begin, System.Runtime.InteropServices.MemoryMarshal.AsBytes(destination));
            return;
        }
        var scratch = ArrayPool<byte>.Shared.Rent(Math.Max(1, bytes));
        try
        {
            ReadBytes(begin, scratch.AsSpan(0, bytes));
            FloatCodec.Decode(scratch.AsSpan(0, bytes), tensor.DType, destination);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>Reads a tensor's stored bytes unchanged (little-endian elements of its dtype) into
    /// <paramref name="destination"/>, for kernels that work on the stored form (e.g. bfloat16 bit patterns).</summary>
    /// <param name="tensor">An entry of this file.</param>
    /// <param name="destination">Exactly <see cref="TensorInfo.ByteLength"/> bytes.</param>
    public void ReadRaw(TensorInfo tensor, Span<byte> destination)
    {
        CheckOwn(tensor);
        if (destination.Length != tensor.ByteLength)
            throw new ArgumentException($"Destination holds {destination.Length} bytes; tensor '{tensor.Name}' has {tensor.ByteLength}.", nameof(destination));
        ReadBytes(tensor.Begin, destination);
    }

    /// <summary>Asks the operating system to start reading a tensor's bytes from disk into its cache, and returns at
    /// once (Linux; a no-op elsewhere): a reader that knows which tensor comes next keeps the disk busy meanwhile.</summary>
    /// <param name="tensor">An entry of this file.</param>
    public void Prefetch(TensorInfo tensor)
    {
        CheckOwn(tensor);
        if (_file is not null) OsReadAhead.Request(_file.SafeFileHandle, DataStart + tensor.Begin, tensor.ByteLength);
    }

    /// <summary>Copies a tensor's stored bytes unchanged to a stream, in chunks (for tensors of any size and dtype).</summary>
    public void CopyRawTo(TensorInfo tensor, Stream destination)
    {
        CheckOwn(tensor);
        ArgumentNullException.ThrowIfNull(destination);
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(CopyChunkBytes, Math.Max(1, tensor.ByteLength)));
        try
        {
            for (long done = 0; done < tensor.ByteLength;)
            {
                int n = (int)Math.Min(buffer.Length, tensor.ByteLength - done);
                ReadBytes(tensor.Begin + done, buffer.AsSpan(0, n));
                destination.Write(buffer, 0, n);
                done += n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _file?.Dispose();

    private void ReadBytes(long dataOffset, Span<byte> destination)
    {
        if (destination.IsEmpty) return;
        // The header check guarantees this; kept so that no caller can make the view read outside the file.
        if (dataOffset < 0 || dataOffset + destination.Length > DataLength || _file is null)
            throw new CheckpointFormatException(Path, $"read of {destination.Length} bytes at data offset {dataOffset} lies outside the data section ({DataLength} bytes).");
        long position = DataStart + dataOffset;
        while (!destination.IsEmpty)
        {
            int n = RandomAccess.Read(_file.SafeFileHandle, destination, position);
            if (n == 0)
                throw new CheckpointFormatException(Path, $"the file ended at byte {position} while reading; it was {DataStart + DataLength} bytes when opened (changed while being read?).");
            destination = destination[n..];
            position += n;
        }
    }

    private void CheckOwn(TensorInfo tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (!_byName.TryGetValue(tensor.Name, out var own) || !ReferenceEquals(own, tensor))
            throw new ArgumentException($"Tensor '{tensor.Name}' is not an entry of {Path}.", nameof(tensor));
    }

    /// <summary>Parses and validates a header against a data section of <paramref name="dataLength"/> bytes.</summary>
    internal static (List<TensorInfo> Tensors, Dictionary<string, string> Metadata) ParseHeader(string path, byte[] header, long dataLength)
    {
        if (!Utf8.IsValid(header))
            throw new CheckpointFormatException(path, "header is not valid UTF-8.");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(path, $"header is not valid JSON ({e.Message}).");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new CheckpointFormatException(path, $"header must be a JSON object; it is {root.ValueKind}.");
            var tensors = new List<TensorInfo>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            // JsonDocument keeps duplicate keys; the format forbids them, so count every property ourselves.
            foreach (var property in root.EnumerateObject())
            {
                string name = JsonText.Name(path, property, "header");
                if (!seen.Add(name))
                    throw new CheckpointFormatException(path, $"header names '{name}' more than once (duplicate names are not allowed).");
                if (name == MetadataKey)
                    ReadMetadata(path, property.Value, metadata);
                else
                    tensors.Add(ReadEntry(path, name, property.Value, dataLength));
            }
            CheckLayout(path, tensors, dataLength);
            return (tensors, metadata);
        }
    }

    private static void ReadMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new CheckpointFormatException(path, $"'{MetadataKey}' must be an object of strings; it is {value.ValueKind}.");
        foreach (var item in value.EnumerateObject())
        {
            string key = JsonText.Name(path, item, $"'{MetadataKey}'");
            if (item.Value.ValueKind != JsonValueKind.String)
                throw new CheckpointFormatException(path, $"'{MetadataKey}' entry '{key}' must be a string; it is {item.Value.ValueKind}.");
            if (!metadata.TryAdd(key, JsonText.String(path, item.Value, $"'{MetadataKey}' entry '{key}'")))
                throw new CheckpointFormatException(path, $"'{MetadataKey}' names '{key}' more than once (duplicate names are not allowed).");
        }
    }

    private static TensorInfo ReadEntry(string path, string name, JsonElement value, long dataLength)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new CheckpointFormatException(path, $"entry of tensor '{name}' must be an object; it is {value.ValueKind}.");
        JsonElement? dtypeValue = null, shapeValue = null, offsetsValue = null;
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var field in value.EnumerateObject())
        {
            string fieldName = JsonText.Name(path, field, $"entry of tensor '{name}'");
            if (!keys.Add(fieldName))
                throw new CheckpointFormatException(path, $"entry of tensor '{name}' names '{fieldName}' more than once (duplicate names are not allowed).");
            switch (fieldName)
            {
                case "dtype": dtypeValue = field.Value; break;
                case "shape": shapeValue = field.Value; break;
                case "data_offsets": offsetsValue = field.Value; break;
            }
        }
        if (dtypeValue is not { ValueKind: JsonValueKind.String } dt)
            throw new CheckpointFormatException(path, $"entry of tensor '{name}' lacks a string 'dtype'.");
        string dtypeText = JsonText.String(path, dt, $"dtype of tensor '{name}'");
        if (!SafetensorsDTypes.TryParse(dtypeText, out var dtype))
            throw new CheckpointFormatException(path, $"tensor '{name}' has unknown dtype '{dtypeText}'.");
        if (shapeValue is not { ValueKind: JsonValueKind.Array } shapeArray)
            throw new CheckpointFormatException(path, $"entry of tensor '{name}' lacks a 'shape' array.");
        var shape = new long[shapeArray.GetArrayLength()];
        int k = 0;
        foreach (var d in shapeArray.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long dim) || dim < 0)
                throw new CheckpointFormatException(path, $"shape of tensor '{name}' must hold non-negative integers; found {d.GetRawText()}.");
            shape[k++] = dim;
        }
        if (offsetsValue is not { ValueKind: JsonValueKind.Array } offsets || offsets.GetArrayLength() != 2)
            throw new CheckpointFormatException(path, $"entry of tensor '{name}' lacks 'data_offsets' as [begin, end].");
        long begin = Offset(path, name, offsets[0]), end = Offset(path, name, offsets[1]);
        if (end < begin)
            throw new CheckpointFormatException(path, $"data_offsets [{begin}, {end}] of tensor '{name}' end before they begin.");
        if (end > dataLength)
            throw new CheckpointFormatException(path, $"data_offsets [{begin}, {end}] of tensor '{name}' are out of bounds: the data section has {dataLength} bytes.");
        long expected;
        try
        {
            expected = dtype.Size();
            foreach (long dim in shape) expected = checked(expected * dim);
        }
        catch (OverflowException)
        {
            throw new CheckpointFormatException(path, $"shape [{string.Join(", ", shape)}] of tensor '{name}' is too large.");
        }
        if (expected != end - begin)
            throw new CheckpointFormatException(path, $"tensor '{name}' of shape [{string.Join(", ", shape)}] and dtype {dtype} needs {expected} bytes, but its data_offsets [{begin}, {end}] span {end - begin} bytes.");
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    private static long Offset(string path, string name, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out long offset) || offset < 0)
            throw new CheckpointFormatException(path, $"data_offsets of tensor '{name}' must be non-negative integers; found {value.GetRawText()}.");
        return offset;
    }

    private static void CheckLayout(string path, List<TensorInfo> tensors, long dataLength)
    {
        tensors.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long position = 0;
        TensorInfo? previous = null;
        foreach (var t in tensors)
        {
            if (t.Begin < position)
                throw new CheckpointFormatException(path, $"tensors '{previous!.Name}' [{previous.Begin}, {previous.End}] and '{t.Name}' [{t.Begin}, {t.End}] overlap.");
            if (t.Begin > position)
                throw new CheckpointFormatException(path, $"bytes [{position}, {t.Begin}) of the data section belong to no tensor (the format allows no holes).");
            position = t.End;
            previous = t;
        }
        if (position != dataLength)
            throw new CheckpointFormatException(path, $"the data section has {dataLength} bytes but the tensors cover only {position} (the format allows no trailing bytes).");
    }

    /// <summary>Serializes a header for tensors laid out as given (ascending, contiguous offsets), padded with spaces
    /// to a multiple of 8 bytes as the reference writer does; returns the 8-byte length prefix and the header.</summary>
    internal static byte[] SerializeHeader(IReadOnlyList<TensorInfo> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        using var json = new MemoryStream();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            if (metadata.Count > 0)
            {
                writer.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata) writer.WriteString(key, value);
                writer.WriteEndObject();
            }
            foreach (var t in tensors)
            {
                writer.WriteStartObject(t.Name);
                writer.WriteString("dtype", t.DType.ToString());
                writer.WriteStartArray("shape");
                foreach (long d in t.Shape) writer.WriteNumberValue(d);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(t.Begin);
                writer.WriteNumberValue(t.End);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        int length = (int)json.Length;
        int padded = (length + 7) / 8 * 8;
        var bytes = new byte[8 + padded];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)padded);
        json.GetBuffer().AsSpan(0, length).CopyTo(bytes.AsSpan(8));
        bytes.AsSpan(8 + length).Fill((byte)' ');
        return bytes;
    }

    /// <summary>Writes a whole safetensors file from in-memory float tensors (tests, fixtures, synthetic series);
    /// each tensor is stored in its own dtype, in the given order.</summary>
    internal static void Write(string path, IReadOnlyList<(string Name, SafetensorsDType DType, long[] Shape, float[] Values)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var infos = new List<TensorInfo>(tensors.Count);
        long offset = 0;
        foreach (var (name, dtype, shape, values) in tensors)
        {
            var info = new TensorInfo(name, dtype, shape, offset, offset + (long)values.Length * dtype.Size());
            if (info.ElementCount != values.Length)
                throw new ArgumentException($"Tensor '{name}' has {values.Length} values for shape {info.ShapeText}.", nameof(tensors));
            infos.Add(info);
            offset = info.End;
        }
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
        stream.Write(SerializeHeader(infos, metadata ?? new Dictionary<string, string>()));
        for (int i = 0; i < infos.Count; i++) WriteFloats(stream, tensors[i].Values, infos[i].DType);
    }

    /// <summary>Encodes floats as <paramref name="dtype"/> and appends them to a stream.</summary>
    internal static void WriteFloats(Stream stream, ReadOnlySpan<float> values, SafetensorsDType dtype)
    {
        int bytes = checked(values.Length * dtype.Size());
        var scratch = ArrayPool<byte>.Shared.Rent(bytes);
        try
        {
            FloatCodec.Encode(values, dtype, scratch.AsSpan(0, bytes));
            stream.Write(scratch, 0, bytes);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }
}
