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
        using var staging = StagingFolder.Create(output);
        WriteInto([staging.Path], layout, (tensor, streams) => writeTensor(tensor, streams[0]), cancellation);
        staging.Commit();
    }

    /// <summary>Writes one checkpoint with the layout of <paramref name="layout"/> into each of <paramref name="folders"/>,
    /// in a single pass over the tensors (each tensor is computed once and written to every folder). Not atomic by itself:
    /// callers write inside a <see cref="StagingFolder"/>.</summary>
    /// <param name="folders">Folders to fill; created when missing; they must hold no checkpoint files yet.</param>
    /// <param name="layout">Template checkpoint, as for <see cref="Write"/>.</param>
    /// <param name="writeTensor">Writes one tensor's bytes to every stream, one stream per folder, in the order of <paramref name="folders"/>.</param>
    /// <param name="cancellation">Checked before each tensor.</param>
    public static void WriteInto(IReadOnlyList<string> folders, Checkpoint layout, Action<CheckpointTensor, IReadOnlyList<Stream>> writeTensor,
        CancellationToken cancellation = default)
    {
        foreach (string folder in folders) Directory.CreateDirectory(folder);
        foreach (var shard in layout.Shards)
            WriteShard(folders.Select(f => Path.Combine(f, layout.IsFile ? Checkpoint.SingleFileName : Path.GetFileName(shard.Path))).ToList(), shard, writeTensor, cancellation);
        foreach (string folder in folders)
        {
            if (layout.IsSharded)
                WriteIndex(Path.Combine(folder, Checkpoint.IndexFileName), layout);
            // A bare weights file has no side files of its own (its folder is the run's).
            foreach (string file in layout.IsFile ? [] : Directory.EnumerateFiles(layout.Directory))
            {
                string name = Path.GetFileName(file);
                if (name == Checkpoint.IndexFileName || WeightExtensions.Any(e => name.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
                    continue;
                File.Copy(file, Path.Combine(folder, name));
            }
        }
    }

    private static void WriteShard(IReadOnlyList<string> paths, SafetensorsFile template, Action<CheckpointTensor, IReadOnlyList<Stream>> writeTensor,
        CancellationToken cancellation)
    {
        var streams = new List<Stream>(paths.Count);
        try
        {
            var header = SafetensorsFile.SerializeHeader(template.Tensors, template.Metadata);
            foreach (string path in paths)
            {
                var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
                streams.Add(stream);
                stream.Write(header);
            }
            long dataStart = header.Length;
            foreach (var tensor in template.Tensors)
            {
                cancellation.ThrowIfCancellationRequested();
                writeTensor(new CheckpointTensor(template, tensor), streams);
                for (int i = 0; i < streams.Count; i++)
                {
                    long written = streams[i].Position - dataStart;
                    if (written != tensor.End)
                        throw new InvalidOperationException($"Writing tensor '{tensor.Name}' of {paths[i]} ended at data byte {written}; its entry ends at {tensor.End}.");
                }
            }
        }
        finally
        {
            foreach (var stream in streams) stream.Dispose();
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
}

/// <summary>
/// A hidden temporary folder beside an output folder (<c>.NAME.alpharl-tmp-*</c>): everything is written inside it, then
/// <see cref="Commit"/> renames it (or one of its subfolders) to the output, so the output exists only when complete.
/// Disposing removes whatever was not committed.
/// </summary>
internal sealed class StagingFolder : IDisposable
{
    /// <summary>File inside a temporary folder naming the process that writes it (process id and start time), so that
    /// later runs can tell the folder of a killed run from one still being written.</summary>
    public const string OwnerFileName = ".alpharl-owner";

    /// <summary>The part of a temporary folder's name after the output's name.</summary>
    public const string Marker = ".alpharl-tmp-";

    private bool _committed;

    private StagingFolder(string output, string full, string path)
    {
        Output = output;
        FullOutput = full;
        Path = path;
    }

    /// <summary>The output folder as given.</summary>
    public string Output { get; }

    /// <summary>The output folder's full path.</summary>
    public string FullOutput { get; }

    /// <summary>The temporary folder.</summary>
    public string Path { get; }

    /// <summary>Creates the temporary folder for <paramref name="output"/>, which must not exist.</summary>
    /// <exception cref="AlphaRLException">The output already exists or has no parent folder.</exception>
    public static StagingFolder Create(string output)
    {
        string full = System.IO.Path.GetFullPath(output).TrimEnd(System.IO.Path.DirectorySeparatorChar);
        if (Directory.Exists(full) || File.Exists(full))
            throw new AlphaRLException($"{output}: output folder already exists; choose a new folder (inputs and earlier outputs are never overwritten).");
        string parent = System.IO.Path.GetDirectoryName(full) ?? throw new AlphaRLException($"{output}: output folder has no parent folder.");
        Directory.CreateDirectory(parent);
        string temp = System.IO.Path.Combine(parent, $".{System.IO.Path.GetFileName(full)}{Marker}{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        using (var self = System.Diagnostics.Process.GetCurrentProcess())
            File.WriteAllText(System.IO.Path.Combine(temp, OwnerFileName), $"{Environment.ProcessId}\n{self.StartTime.ToUniversalTime().Ticks}\n");
        return new StagingFolder(output, full, temp);
    }

    /// <summary>The temporary folders in <paramref name="parent"/> left by runs that are no longer running (killed
    /// outright, so they could not remove them), with the reason each is judged stale.</summary>
    public static IReadOnlyList<(string Path, string Reason)> FindStale(string parent)
    {
        var stale = new List<(string, string)>();
        if (!Directory.Exists(parent)) return stale;
        foreach (string folder in Directory.EnumerateDirectories(parent, "." + "*" + Marker + "*"))
        {
            string owner = System.IO.Path.Combine(folder, OwnerFileName);
            if (!File.Exists(owner))
            {
                // A folder is created a moment before its owner file; give that moment a wide margin.
                if (DateTime.UtcNow - Directory.GetLastWriteTimeUtc(folder) > TimeSpan.FromMinutes(1))
                    stale.Add((folder, "it names no owner process"));
                continue;
            }
            string[] lines = File.ReadAllLines(owner);
            if (lines.Length < 2 || !int.TryParse(lines[0], out int pid) || !long.TryParse(lines[1], out long started))
            {
                stale.Add((folder, "its owner file is unreadable"));
                continue;
            }
            if (!IsRunning(pid, started)) stale.Add((folder, $"process {pid}, which wrote it, is no longer running"));
        }
        return stale;
    }

    private static bool IsRunning(int pid, long startTicks)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            // A recycled process id belongs to a process started at another time.
            return Math.Abs(process.StartTime.ToUniversalTime().Ticks - startTicks) < TimeSpan.TicksPerSecond;
        }
        catch (ArgumentException)
        {
            return false; // no process with that id
        }
        catch (InvalidOperationException)
        {
            return false; // it exited while we looked
        }
    }

    /// <summary>Renames the temporary folder, or its subfolder <paramref name="subfolder"/>, to the output; the rest of
    /// the temporary folder is removed on disposal.</summary>
    public void Commit(string? subfolder = null)
    {
        if (_committed) throw new InvalidOperationException($"{Output} was already committed.");
        File.Delete(System.IO.Path.Combine(Path, OwnerFileName));
        Directory.Move(subfolder is null ? Path : System.IO.Path.Combine(Path, subfolder), FullOutput);
        _committed = true;
        if (subfolder is not null) TryDelete(Path);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (!_committed) TryDelete(Path);
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
