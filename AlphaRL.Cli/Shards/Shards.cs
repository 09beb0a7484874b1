using System.Text.Json;
using System.Text.Json.Serialization;
using AlphaRl.Checkpoints;
using AlphaRl.Jumps;

namespace AlphaRl.Cli;

/// <summary>A part's manifest (<c>part.json</c>).</summary>
internal sealed record PartManifest(int Shard, int Shards, string Last, string Fingerprint, long TargetStep, string Method, IReadOnlyList<string> Tensors)
{
    /// <summary>The fit gate's evidence of this part's rank-1 matrices, pooled with the other parts' by <see cref="Shards.Merge"/>;
    /// null for velocity and direction, which have no held-out fit.</summary>
    public GateEvidence? Fit { get; init; }

    /// <summary>The <c>--fit-threshold</c> the part was written with.</summary>
    public double FitThreshold { get; init; } = JumpDefaults.FitThreshold;

    /// <summary>Whether the part was written with <c>--force</c>: merge then writes a prediction that fails the gate, with a warning.</summary>
    public bool Force { get; init; }
}

/// <summary>The part manifest's JSON: as <see cref="CliJson"/>, with NaN or infinite fit figures written as named literals.</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(PartManifest))]
internal sealed partial class PartJson : JsonSerializerContext;

/// <summary>
/// The parts of a sharded <c>predict</c>: each shard writes <c>OUT.part-i-of-n/</c> holding <c>part.safetensors</c> (its
/// tensors, with the bytes the single-process predict writes) and <c>part.json</c>; <see cref="Merge"/> writes
/// <c>OUT</c> from the last checkpoint's layout, taking the computed tensors from the parts and every other tensor
/// (and the config and tokenizer files) from the last checkpoint, then removes the parts. The result is byte-identical
/// to a single process.
/// </summary>
internal static class Shards
{
    public const string PartFile = "part.safetensors", ManifestFile = "part.json";

    /// <summary>Writes a part atomically: <paramref name="writeTensor"/> writes each tensor's bytes, in the layout's order,
    /// then <paramref name="manifest"/> gives the part's manifest (asked for after the tensors, whose fits it may carry).</summary>
    public static void WritePart(string folder, Checkpoint last, ISet<string> tensors, Func<PartManifest> manifest,
        Action<CheckpointTensor, Stream> writeTensor, CancellationToken cancellation)
    {
        using var staging = StagingFolder.Create(folder);
        var ordered = last.TensorNames.Where(tensors.Contains).Select(last.Tensor).ToList();
        var infos = new List<TensorInfo>();
        long offset = 0;
        foreach (var t in ordered)
        {
            infos.Add(t.Info with { Begin = offset, End = offset + t.Info.ByteLength });
            offset += t.Info.ByteLength;
        }
        var header = SafetensorsFile.SerializeHeader(infos, new Dictionary<string, string>());
        using (var stream = new FileStream(Path.Combine(staging.Path, PartFile), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
        {
            stream.Write(header);
            foreach (var t in ordered)
            {
                cancellation.ThrowIfCancellationRequested();
                long before = stream.Position;
                writeTensor(t, stream);
                if (stream.Position - before != t.Info.ByteLength)
                    throw new InvalidOperationException($"Writing tensor '{t.Info.Name}' of a part wrote {stream.Position - before} bytes; it has {t.Info.ByteLength}.");
            }
        }
        File.WriteAllBytes(Path.Combine(staging.Path, ManifestFile), JsonSerializer.SerializeToUtf8Bytes(manifest() with { Tensors = ordered.Select(t => t.Info.Name).ToList() }, PartJson.Default.PartManifest));
        staging.Commit();
    }

    /// <summary>Merges the parts of <paramref name="output"/> into it, once their pooled fit passes the fit gate (the same
    /// figure as one process's); returns the number of parts and, when the gate refused but <paramref name="force"/> (or the
    /// parts' <c>--force</c>) wrote anyway, the refusal.</summary>
    /// <exception cref="AlphaRLException">A part is missing or from another run, or the pooled fit fails the gate without force.</exception>
    public static (int Parts, string? Forced) Merge(string output, bool force, CancellationToken cancellation)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(output));
        string parent = Path.GetDirectoryName(full)!, name = Path.GetFileName(full);
        var folders = Directory.Exists(parent) ? Directory.GetDirectories(parent, name + ".part-*-of-*").Order(StringComparer.Ordinal).ToList() : [];
        if (folders.Count == 0) throw new UsageException($"No part of {output} found (folders {name}.part-I-of-N beside it, written by predict --shard).");
        var parts = folders.Select(f => (Folder: f, Manifest: ReadManifest(f))).ToList();
        var first = parts[0].Manifest;
        foreach (var (folder, m) in parts)
            if (m.Shards != first.Shards || m.Last != first.Last || m.Fingerprint != first.Fingerprint || m.TargetStep != first.TargetStep || m.Method != first.Method
                || m.FitThreshold != first.FitThreshold || m.Force != first.Force || (m.Fit is null) != (first.Fit is null))
                throw new AlphaRLException($"{folder}: this part was written by another run than {parts[0].Folder} (shard count, last checkpoint, target, method, --fit-threshold or --force differ); nothing was written.");
        var missing = Enumerable.Range(0, first.Shards).Except(parts.Select(p => p.Manifest.Shard)).ToList();
        if (missing.Count > 0)
            throw new AlphaRLException($"{output}: parts {string.Join(", ", missing.Select(i => $"{i}/{first.Shards}"))} are missing (not finished, or failed); nothing was written.");
        string? forced = first.Fit is null ? null : FitGate.Enforce(GateEvidence.Pool(parts.Select(p => p.Manifest.Fit!).ToList()), first.FitThreshold, force || first.Force,
            $"the parts are kept: 'alpharl merge --out {output} --force' writes the prediction anyway");
        using var last = Checkpoint.Open(first.Last);
        if (SnapshotStore.Fingerprint(last) != first.Fingerprint)
            throw new AlphaRLException($"{first.Last}: the last checkpoint changed since the parts were written; nothing was written.");
        var files = new List<SafetensorsFile>();
        try
        {
            var source = new Dictionary<string, (SafetensorsFile File, TensorInfo Info)>(StringComparer.Ordinal);
            foreach (var (folder, m) in parts)
            {
                var file = SafetensorsFile.Open(Path.Combine(folder, PartFile));
                files.Add(file);
                foreach (var t in file.Tensors)
                {
                    if (!last.TryGetTensor(t.Name, out var layout) || !layout.Info.SameLayout(t))
                        throw new CheckpointFormatException(file.Path, $"tensor '{t.Name}' {t.ShapeText} {t.DType} is not a tensor of {first.Last} with that shape and dtype.");
                    if (!source.TryAdd(t.Name, (file, t)))
                        throw new CheckpointFormatException(file.Path, $"tensor '{t.Name}' is also in {source[t.Name].File.Path}.");
                }
            }
            CheckpointWriter.Write(output, last, (tensor, stream) =>
            {
                if (source.TryGetValue(tensor.Info.Name, out var part)) part.File.CopyRawTo(part.Info, stream);
                else
                {
                    Finite.EnsureStored(tensor, "of the last checkpoint");
                    tensor.File.CopyRawTo(tensor.Info, stream);
                }
            }, cancellation);
        }
        finally
        {
            foreach (var f in files) f.Dispose();
        }
        foreach (var (folder, _) in parts) Directory.Delete(folder, recursive: true);
        return (parts.Count, forced);
    }

    private static PartManifest ReadManifest(string folder)
    {
        string path = Path.Combine(folder, ManifestFile);
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), PartJson.Default.PartManifest) is { Last: not null, Fingerprint: not null, Tensors: not null, Method: not null } m
                && (m.Fit is null || m.Fit is { Matrices: not null, Steps: not null } fit && fit.Matrices.All(x => x?.Name is not null) && fit.Steps.All(x => x is not null))
                ? m : throw new CheckpointFormatException(path, "is not a part manifest.");
        }
        catch (Exception e) when (e is JsonException or FileNotFoundException)
        {
            throw new CheckpointFormatException(path, $"part manifest is missing or unreadable ({e.Message}).");
        }
    }
}
