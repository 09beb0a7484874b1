using System.Text.Json;

namespace AlphaRl.Checkpoints;

/// <summary>
/// Writes a checkpoint with the same layout as a template (same shard files, tensor order, dtypes and shapes),
/// atomically: everything goes into a hidden temporary folder beside the output, which is renamed to the output
/// at the end and deleted on any failure, so the output folder exists only when complete.
/// </summary>
internal static class CheckpointWriter
{
    /// <summary>Extensions of weight and optimizer files that are never copied: they would disagree with the new weights.</summary>
    private static readonly string[] WeightExtensions = [".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".h5", ".msgpack", ".gguf", ".onnx", ".npz"];

    /// <summary>Writes <paramref name="output"/> with the layout of <paramref name="layout"/>.</summary>
    /// <param name="output">Folder to create; must not exist.</param>
    /// <param name="layout">Template checkpoint: its layout is kept and its non-weight files (config, tokenizer...) are copied.</param>
    /// <param name="writeTensor">Writes one tensor's bytes (exactly <see cref="TensorInfo.ByteLength"/>) in the template's dtype.</param>
    /// <param name="cancellation">Checked before each tensor; cancelling removes the temporary folder and throws.</param>
    public static void Write(string output, Checkpoint layout, Action<CheckpointTensor, Stream> writeTensor, CancellationToken cancellation = default)
    {
        string full = Path.GetFullPath(output).TrimEnd(Path.DirectorySeparatorChar);
        if (Directory.Exists(full) || File.Exists(full))
            throw new AlphaRlException($"{output}: output folder already exists; choose a new folder (inputs and earlier outputs are never overwritten).");
        string parent = Path.GetDirectoryName(full) ?? throw new AlphaRlException($"{output}: output folder has no parent folder.");
        Directory.CreateDirectory(parent);
        string temp = Path.Combine(parent, $".{Path.GetFileName(full)}.alpharl-tmp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        try
        {
            foreach (var shard in layout.Shards)
                WriteShard(Path.Combine(temp, Path.GetFileName(shard.Path)), shard, writeTensor, cancellation);
            if (layout.IsSharded)
                WriteIndex(Path.Combine(temp, Checkpoint.IndexFileName), layout);
            foreach (string file in Directory.EnumerateFiles(layout.Directory))
            {
                string name = Path.GetFileName(file);
                if (name == Checkpoint.IndexFileName || WeightExtensions.Any(e => name.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
                    continue;
                File.Copy(file, Path.Combine(temp, name));
            }
            Directory.Move(temp, full);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    private static void WriteShard(string path, SafetensorsFile template, Action<CheckpointTensor, Stream> writeTensor, CancellationToken cancellation)
    {
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        stream.Write(SafetensorsFile.SerializeHeader(template.Tensors, template.Metadata));
        long dataStart = stream.Position;
        foreach (var tensor in template.Tensors)
        {
            cancellation.ThrowIfCancellationRequested();
            writeTensor(new CheckpointTensor(template, tensor), stream);
            long written = stream.Position - dataStart;
            if (written != tensor.End)
                throw new InvalidOperationException($"Writing tensor '{tensor.Name}' of {path} ended at data byte {written}; its entry ends at {tensor.End}.");
        }
    }

    private static void WriteIndex(string path, Checkpoint layout)
    {
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        writer.WriteStartObject();
        writer.WriteStartObject("metadata");
        if (layout.IndexMetadataJson is not null)
        {
            using var old = JsonDocument.Parse(layout.IndexMetadataJson);
            if (old.RootElement.ValueKind == JsonValueKind.Object)
                foreach (var p in old.RootElement.EnumerateObject())
                    if (p.Name != "total_size") p.WriteTo(writer);
        }
        writer.WriteNumber("total_size", layout.Shards.Sum(s => s.DataLength));
        writer.WriteEndObject();
        writer.WriteStartObject("weight_map");
        foreach (string name in layout.TensorNames.Order(StringComparer.Ordinal))
            writer.WriteString(name, Path.GetFileName(layout.Tensor(name).File.Path));
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void TryDelete(string folder)
    {
        try
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: the original error matters more than a leftover hidden temporary folder.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
