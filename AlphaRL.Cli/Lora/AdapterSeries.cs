using AlphaRl.Checkpoints;

namespace AlphaRl.Cli;

/// <summary>One LoRA target module of an adapter: its factors A [r × in] and B [out × r] and the base weight
/// W [out × in] they update, ΔW = scale · B A.</summary>
/// <param name="BaseWeight">Name of W in the base checkpoint, e.g. <c>model.layers.0.self_attn.q_proj.weight</c>.</param>
/// <param name="A">Name of lora_A in the adapter file.</param>
/// <param name="B">Name of lora_B in the adapter file.</param>
/// <param name="Rank">r: rows of A, columns of B.</param>
/// <param name="Rows">out: rows of B and of W.</param>
/// <param name="Cols">in: columns of A and of W.</param>
internal sealed record LoraModule(string BaseWeight, string A, string B, int Rank, int Rows, int Cols);

/// <summary>
/// A series of PEFT LoRA adapter folders (<c>adapter_config.json</c> and <c>adapter_model.safetensors</c>, e.g. a
/// trainer's <c>checkpoint-N</c> folders), opened and checked against each other before any tensor is read: the same
/// configuration (r, lora_alpha, use_rslora, targets), and the same tensors with the same shapes and dtypes.
/// </summary>
internal sealed class AdapterSeries : IDisposable
{
    /// <summary>The prefix PEFT gives every key of the adapter file: the PeftModel's base_model (the LoraModel) and its model.</summary>
    public const string KeyPrefix = "base_model.model.";

    private readonly List<Checkpoint> _opened = new();
    private Dictionary<string, LoraModule> _byBaseWeight = new(StringComparer.Ordinal);
    private Dictionary<string, string> _savedWhole = new(StringComparer.Ordinal);

    private AdapterSeries() { }

    /// <summary>The configuration, the same in every checkpoint (the last one's file).</summary>
    public AdapterConfig Config { get; private set; } = null!;

    public long BaseStep { get; private set; }

    /// <summary>The adapter checkpoints, first to last.</summary>
    public IReadOnlyList<(long Step, Checkpoint Adapter)> Window { get; private set; } = [];

    public IReadOnlyList<long> Steps { get; private set; } = [];

    public Checkpoint Last => Window[^1].Adapter;

    /// <summary>The target modules, in the order of their lora_A in the last checkpoint's file.</summary>
    public IReadOnlyList<LoraModule> Modules { get; private set; } = [];

    /// <summary>The adapter's tensors other than the LoRA factors (modules saved whole, by <c>modules_to_save</c>).</summary>
    public IReadOnlyList<string> Others { get; private set; } = [];

    /// <summary>The target module whose base weight is <paramref name="baseWeight"/>, if any.</summary>
    public LoraModule? ModuleOf(string baseWeight) => _byBaseWeight.GetValueOrDefault(baseWeight);

    /// <summary>The adapter tensor saved whole (by <c>modules_to_save</c>) that takes the place of the base's tensor
    /// <paramref name="baseName"/> in a merge, if any.</summary>
    public string? SavedWholeAs(string baseName) => _savedWhole.GetValueOrDefault(baseName);

    /// <summary>Whether a folder is an adapter folder: it holds <see cref="AdapterConfig.FileName"/>.</summary>
    public static bool IsAdapterFolder(string directory) => File.Exists(Path.Combine(directory, AdapterConfig.FileName));

    /// <summary>Whether the series of <paramref name="options"/> is an adapter series: every checkpoint folder is an
    /// adapter folder. A series mixing adapter and full checkpoints is a usage error.</summary>
    public static bool Holds(SeriesOptions options)
    {
        if (options.Store is not null) return false;
        var adapters = options.Checkpoints.Where(c => IsAdapterFolder(c.Directory)).ToList();
        if (adapters.Count == 0) return false;
        if (adapters.Count < options.Checkpoints.Count)
        {
            var full = options.Checkpoints.First(c => !IsAdapterFolder(c.Directory));
            throw new UsageException($"Checkpoint {adapters[0].Directory} is a LoRA adapter folder ({AdapterConfig.FileName}) but {full.Directory} is not; " +
                "give either adapter folders only or full checkpoints only.");
        }
        return true;
    }

    /// <summary>The base checkpoint's name of an adapter key: the key without <see cref="KeyPrefix"/>.</summary>
    public static string BaseName(string adapterKey) =>
        adapterKey.StartsWith(KeyPrefix, StringComparison.Ordinal) ? adapterKey[KeyPrefix.Length..] : adapterKey;

    public static AdapterSeries Open(IReadOnlyList<StepFolder> checkpoints, long baseStep)
    {
        var ordered = StepFolder.Order(checkpoints, baseStep);
        var series = new AdapterSeries { BaseStep = baseStep };
        try
        {
            var window = new List<(long, Checkpoint)>();
            AdapterConfig? first = null;
            foreach (var c in ordered)
            {
                var config = AdapterConfig.Read(c.Directory);
                first?.EnsureSameAs(config);
                first ??= config;
                series.Config = config;
                if (!File.Exists(Path.Combine(c.Directory, AdapterConfig.WeightsFileName)))
                    throw new CheckpointFormatException(c.Directory, $"holds {AdapterConfig.FileName} but no {AdapterConfig.WeightsFileName}" +
                        (File.Exists(Path.Combine(c.Directory, "adapter_model.bin")) ? " (only adapter_model.bin: save with safe_serialization=True)." : "."));
                var adapter = Checkpoint.OpenFile(c.Directory, AdapterConfig.WeightsFileName);
                series._opened.Add(adapter);
                window.Add((c.Step, adapter));
            }
            series.Window = window;
            series.Steps = ordered.Select(c => c.Step).ToList();
            series.FindModules();
            series.CheckSeries();
            return series;
        }
        catch
        {
            series.Dispose();
            throw;
        }
    }

    /// <summary>Checks that a full checkpoint is the model the adapter belongs to: every target module's base weight
    /// exists with shape [out, in] and a float dtype, and with <paramref name="others"/> every other adapter tensor
    /// exists (without <see cref="KeyPrefix"/>) with the same shape.</summary>
    /// <param name="model">The full checkpoint (the base).</param>
    /// <param name="option">The option that named it, for messages.</param>
    /// <param name="others">Also check the tensors saved whole (a merge replaces the base's with them).</param>
    public void EnsureFits(Checkpoint model, string option, bool others)
    {
        foreach (var m in Modules)
        {
            if (!model.TryGetTensor(m.BaseWeight, out var w))
                throw new CheckpointFormatException(model.Directory, $"({option}) has no tensor '{m.BaseWeight}', the base weight of the adapter's '{m.A}'; is it the adapter's base model?");
            if (!w.Info.Shape.AsSpan().SequenceEqual(new long[] { m.Rows, m.Cols }) || !w.Info.DType.IsFloat())
                throw new CheckpointFormatException(w.File.Path, $"({option}) tensor '{m.BaseWeight}' is {w.Info.DType} {w.Info.ShapeText}; the adapter's B A is [{m.Rows}, {m.Cols}] " +
                    "and a float weight (F32, F16 or BF16) is needed.");
        }
        if (!others) return;
        foreach (string name in Others)
        {
            string baseName = BaseName(name);
            var info = Last.Tensor(name).Info;
            if (!model.TryGetTensor(baseName, out var w) || !w.Info.Shape.AsSpan().SequenceEqual(info.Shape) || !w.Info.DType.IsFloat() || !info.DType.IsFloat())
                throw new CheckpointFormatException(model.Directory, $"({option}) has no float tensor '{baseName}' of shape {info.ShapeText} for the adapter's {info.DType} '{name}' " +
                    "(a module saved whole, which the merge puts in place of the base's).");
        }
    }

    public void Dispose()
    {
        foreach (var c in _opened) c.Dispose();
    }

    private void FindModules()
    {
        const string a = ".lora_A.weight", b = ".lora_B.weight";
        string file = Last.Shards[0].Path;
        var modules = new List<LoraModule>();
        var factors = new HashSet<string>(StringComparer.Ordinal);
        foreach (string name in Last.TensorNames)
        {
            if (name.Contains(".lora_embedding_", StringComparison.Ordinal) || name.Contains(".lora_magnitude_vector", StringComparison.Ordinal))
                throw new CheckpointFormatException(file, $"holds '{name}': LoRA on embeddings and DoRA are not supported.");
            if (!name.EndsWith(a, StringComparison.Ordinal)) continue;
            string prefix = name[..^a.Length];
            if (!prefix.StartsWith(KeyPrefix, StringComparison.Ordinal))
                throw new CheckpointFormatException(file, $"tensor '{name}' does not start with '{KeyPrefix}', as PEFT names the keys of a saved adapter.");
            if (!Last.TryGetTensor(prefix + b, out var bt))
                throw new CheckpointFormatException(file, $"holds '{name}' but no '{prefix + b}'.");
            var at = Last.Tensor(name);
            if (!at.Info.IsMatrix || !bt.Info.IsMatrix || !at.Info.DType.IsFloat() || !bt.Info.DType.IsFloat())
                throw new CheckpointFormatException(file, $"LoRA factors '{name}' ({at.Info.DType} {at.Info.ShapeText}) and '{prefix + b}' ({bt.Info.DType} {bt.Info.ShapeText}) " +
                    "must be 2-D float tensors (LoRA on convolutions is not supported).");
            long rank = at.Info.Shape[0];
            if (bt.Info.Shape[1] != rank)
                throw new CheckpointFormatException(file, $"lora_A '{name}' {at.Info.ShapeText} and lora_B '{prefix + b}' {bt.Info.ShapeText} disagree on the rank.");
            if (rank != Config.Rank)
                throw new CheckpointFormatException(file, $"lora_A '{name}' has rank {rank}, but {Config.Path} sets r = {Config.Rank}.");
            modules.Add(new LoraModule(BaseName(prefix) + ".weight", name, prefix + b, (int)rank, checked((int)bt.Info.Shape[0]), checked((int)at.Info.Shape[1])));
            factors.Add(name);
            factors.Add(prefix + b);
        }
        if (modules.Count == 0)
            throw new CheckpointFormatException(file, "holds no LoRA factors (tensors named '...lora_A.weight' and '...lora_B.weight').");
        foreach (string name in Last.TensorNames.Where(n => n.EndsWith(b, StringComparison.Ordinal) && !factors.Contains(n)))
            throw new CheckpointFormatException(file, $"holds '{name}' but no matching lora_A.");
        Modules = modules;
        Others = Last.TensorNames.Where(n => !factors.Contains(n)).ToList();
        _byBaseWeight = modules.ToDictionary(m => m.BaseWeight, StringComparer.Ordinal);
        _savedWhole = Others.ToDictionary(BaseName, n => n, StringComparer.Ordinal);
    }

    /// <summary>Every checkpoint holds exactly the last one's tensors, with the same shapes and dtypes.</summary>
    private void CheckSeries()
    {
        var reference = Last.Shards[0];
        foreach (var (_, adapter) in Window)
        {
            var file = adapter.Shards[0];
            foreach (var t in reference.Tensors)
            {
                if (!file.TryGetTensor(t.Name, out var other))
                    throw new CheckpointFormatException(file.Path, $"has no tensor '{t.Name}', which {reference.Path} holds.");
                if (!other.SameLayout(t))
                    throw new CheckpointFormatException(file.Path, $"tensor '{t.Name}' is {other.DType} {other.ShapeText}, but {t.DType} {t.ShapeText} in {reference.Path}.");
            }
            foreach (var t in file.Tensors.Where(t => !reference.TryGetTensor(t.Name, out _)))
                throw new CheckpointFormatException(file.Path, $"holds tensor '{t.Name}', which {reference.Path} does not.");
        }
    }
}
