using System.Text.Json;
using System.Text.Unicode;

namespace AlphaRl.Checkpoints;

/// <summary>A tensor of a checkpoint together with the file that holds it.</summary>
/// <param name="File">The safetensors file (shard) holding the tensor.</param>
/// <param name="Info">The tensor's entry in that file.</param>
public sealed record CheckpointTensor(SafetensorsFile File, TensorInfo Info)
{
    /// <summary>Reads the tensor as floats into <paramref name="destination"/>.</summary>
    public void ReadFloats(Span<float> destination) => File.ReadFloats(Info, destination);

    /// <summary>Reads <c>destination.Length</c> elements starting at <paramref name="firstElement"/> as floats.</summary>
    public void ReadFloats(long firstElement, Span<float> destination) => File.ReadFloats(Info, firstElement, destination);

    /// <summary>Asks the operating system to start reading the tensor from disk (<see cref="SafetensorsFile.Prefetch"/>).</summary>
    public void Prefetch() => File.Prefetch(Info);

    /// <summary>Reads the tensor's stored bytes unchanged into <paramref name="destination"/> (exactly its byte length).</summary>
    public void ReadRaw(Span<byte> destination) => File.ReadRaw(Info, destination);
}

/// <summary>
/// A Hugging Face checkpoint folder: a single <c>model.safetensors</c>, or shards listed by
/// <c>model.safetensors.index.json</c>. Every file is validated on opening; tensors are read one at a time.
/// </summary>
/// <example>
/// <code>
/// using var checkpoint = Checkpoint.Open("runs/step-100");
/// foreach (var name in checkpoint.TensorNames) Console.WriteLine(checkpoint.Tensor(name).Info.ShapeText);
/// </code>
/// </example>
public sealed class Checkpoint : IDisposable
{
    /// <summary>File name of an unsharded checkpoint.</summary>
    public const string SingleFileName = "model.safetensors";

    /// <summary>File name of the index of a sharded checkpoint.</summary>
    public const string IndexFileName = "model.safetensors.index.json";

    private const long MaxIndexBytes = 100L * 1024 * 1024;

    private readonly Dictionary<string, CheckpointTensor> _tensors;

    private Checkpoint(string directory, IReadOnlyList<SafetensorsFile> shards, bool sharded, Dictionary<string, CheckpointTensor> tensors,
        IReadOnlyList<string> names, string? indexMetadataJson)
    {
        Directory = directory;
        Shards = shards;
        IsSharded = sharded;
        _tensors = tensors;
        TensorNames = names;
        IndexMetadataJson = indexMetadataJson;
    }

    /// <summary>The folder (or, for a bare weights file, the file: <see cref="IsFile"/>).</summary>
    public string Directory { get; }

    /// <summary>Whether the checkpoint is one bare <c>.safetensors</c> file (e.g. <c>model-300.safetensors</c> saved by a
    /// plain training script) rather than a folder; written out, it becomes a folder holding <see cref="SingleFileName"/>.</summary>
    public bool IsFile => Shards.Count == 1 && !IsSharded && string.Equals(Shards[0].Path, Directory, StringComparison.Ordinal);

    /// <summary>Whether the weights are sharded (listed by <see cref="IndexFileName"/>).</summary>
    public bool IsSharded { get; }

    /// <summary>The safetensors files, in file-name order.</summary>
    public IReadOnlyList<SafetensorsFile> Shards { get; }

    /// <summary>All tensor names, shard by shard in the order of their data.</summary>
    public IReadOnlyList<string> TensorNames { get; }

    /// <summary>Raw JSON of the index's <c>metadata</c> object, when sharded and present.</summary>
    public string? IndexMetadataJson { get; }

    /// <summary>Opens and validates a checkpoint folder.</summary>
    /// <param name="directory">Folder holding <see cref="SingleFileName"/> or <see cref="IndexFileName"/> and its shards, or one bare <c>.safetensors</c> file.</param>
    /// <exception cref="CheckpointFormatException">A file is missing, malformed, or the index disagrees with the shards.</exception>
    public static Checkpoint Open(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (File.Exists(directory) && directory.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
        {
            var bare = SafetensorsFile.Open(directory);
            return new Checkpoint(bare.Path, [bare], false, bare.Tensors.ToDictionary(t => t.Name, t => new CheckpointTensor(bare, t), StringComparer.Ordinal),
                bare.Tensors.Select(t => t.Name).ToList(), null);
        }
        if (File.Exists(directory))
            throw new CheckpointFormatException(directory, "is a file, not a checkpoint folder (a bare weights file must end in .safetensors).");
        if (!System.IO.Directory.Exists(directory))
            throw new CheckpointFormatException(directory, "folder does not exist.");
        string single = Path.Combine(directory, SingleFileName);
        string index = Path.Combine(directory, IndexFileName);
        if (File.Exists(single))
            return OpenFile(directory, SingleFileName);
        if (File.Exists(index))
            return OpenSharded(directory, index);
        // A PEFT adapter folder holds only the adapter: say so, since record, watch and a base need the full model.
        throw new CheckpointFormatException(directory, $"holds neither {SingleFileName} nor {IndexFileName}" +
            (File.Exists(Path.Combine(directory, "adapter_config.json"))
                ? " but a LoRA adapter (adapter_config.json): predict and analyze read a series of adapter folders as the checkpoints, with the full base model as --base; record, watch and a snapshot store need full checkpoints."
                : "."));
    }

    /// <summary>Opens a folder whose weights are one safetensors file of another name than <see cref="SingleFileName"/>,
    /// e.g. a PEFT adapter's <c>adapter_model.safetensors</c>; writing with it as the layout keeps that name.</summary>
    /// <param name="directory">The folder.</param>
    /// <param name="fileName">Name of the safetensors file in the folder.</param>
    /// <exception cref="CheckpointFormatException">The folder or the file is missing, or the file is malformed.</exception>
    public static Checkpoint OpenFile(string directory, string fileName)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!System.IO.Directory.Exists(directory))
            throw new CheckpointFormatException(directory, "folder does not exist.");
        string path = Path.Combine(directory, fileName);
        if (!File.Exists(path))
            throw new CheckpointFormatException(directory, $"holds no {fileName}.");
        var file = SafetensorsFile.Open(path);
        var tensors = file.Tensors.ToDictionary(t => t.Name, t => new CheckpointTensor(file, t), StringComparer.Ordinal);
        return new Checkpoint(directory, [file], false, tensors, file.Tensors.Select(t => t.Name).ToList(), null);
    }

    /// <summary>Whether the checkpoint holds a tensor of that name.</summary>
    public bool TryGetTensor(string name, out CheckpointTensor tensor) => _tensors.TryGetValue(name, out tensor!);

    /// <summary>A tensor and its file.</summary>
    /// <exception cref="CheckpointFormatException">The checkpoint has no tensor of that name.</exception>
    public CheckpointTensor Tensor(string name) =>
        TryGetTensor(name, out var t) ? t : throw new CheckpointFormatException(Directory, $"has no tensor named '{name}'.");

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var shard in Shards) shard.Dispose();
    }

    private static Checkpoint OpenSharded(string directory, string indexPath)
    {
        var (weightMap, metadataJson) = ReadIndex(indexPath);
        var shardNames = weightMap.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var shards = new List<SafetensorsFile>();
        try
        {
            var tensors = new Dictionary<string, CheckpointTensor>(StringComparer.Ordinal);
            var names = new List<string>();
            foreach (string shardName in shardNames)
            {
                string shardPath = Path.Combine(directory, shardName);
                if (!File.Exists(shardPath))
                    throw new CheckpointFormatException(indexPath, $"lists shard '{shardName}', which does not exist.");
                var shard = SafetensorsFile.Open(shardPath);
                shards.Add(shard);
                foreach (var t in shard.Tensors)
                {
                    if (tensors.TryGetValue(t.Name, out var other))
                        throw new CheckpointFormatException(shardPath, $"tensor '{t.Name}' is also in {other.File.Path} (duplicate names are not allowed).");
                    if (!weightMap.TryGetValue(t.Name, out string? listed) || listed != shardName)
                        throw new CheckpointFormatException(shardPath, $"holds tensor '{t.Name}', which {indexPath} " +
                            (listed is null ? "does not list." : $"places in '{listed}'."));
                    tensors.Add(t.Name, new CheckpointTensor(shard, t));
                    names.Add(t.Name);
                }
            }
            foreach (var (name, shardName) in weightMap)
                if (!tensors.ContainsKey(name))
                    throw new CheckpointFormatException(indexPath, $"lists tensor '{name}' in '{shardName}', which does not hold it.");
            return new Checkpoint(directory, shards, true, tensors, names, metadataJson);
        }
        catch
        {
            foreach (var s in shards) s.Dispose();
            throw;
        }
    }

    private static (Dictionary<string, string> WeightMap, string? MetadataJson) ReadIndex(string indexPath)
    {
        long length = new FileInfo(indexPath).Length;
        if (length > MaxIndexBytes)
            throw new CheckpointFormatException(indexPath, $"index is {length} bytes, above the cap of {MaxIndexBytes} bytes.");
        byte[] bytes = File.ReadAllBytes(indexPath);
        if (!Utf8.IsValid(bytes))
            throw new CheckpointFormatException(indexPath, "index is not valid UTF-8.");
        try
        {
            using var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 16 });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new CheckpointFormatException(indexPath, $"index must be a JSON object; it is {root.ValueKind}.");
            JsonElement? map = null;
            string? metadata = null;
            var keys = new HashSet<string>(StringComparer.Ordinal);
            foreach (var p in root.EnumerateObject())
            {
                string key = JsonText.Name(indexPath, p, "index");
                if (!keys.Add(key))
                    throw new CheckpointFormatException(indexPath, $"index names '{key}' more than once (duplicate names are not allowed).");
                if (key == "weight_map") map = p.Value;
                else if (key == "metadata") metadata = p.Value.GetRawText();
            }
            if (map is not { ValueKind: JsonValueKind.Object } weightMap)
                throw new CheckpointFormatException(indexPath, "index lacks a 'weight_map' object.");
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in weightMap.EnumerateObject())
            {
                string tensor = JsonText.Name(indexPath, entry, "weight_map");
                if (entry.Value.ValueKind != JsonValueKind.String)
                    throw new CheckpointFormatException(indexPath, $"weight_map entry '{tensor}' must be a file name string.");
                string shard = JsonText.String(indexPath, entry.Value, $"weight_map entry '{tensor}'");
                // Shards must sit beside the index: no folders, no way out of the checkpoint.
                if (shard.Length == 0 || shard != Path.GetFileName(shard) || shard.Contains('/') || shard.Contains('\\') ||
                    shard is "." or ".." || !shard.EndsWith(".safetensors", StringComparison.Ordinal))
                    throw new CheckpointFormatException(indexPath, $"weight_map places '{tensor}' in '{shard}', which is not a .safetensors file name beside the index.");
                if (!result.TryAdd(tensor, shard))
                    throw new CheckpointFormatException(indexPath, $"weight_map names '{tensor}' more than once (duplicate names are not allowed).");
            }
            return (result, metadata);
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(indexPath, $"index is not valid JSON ({e.Message}).");
        }
    }
}
