using System.Security.Cryptography;
using AlphaRl.Checkpoints;
using AlphaRl.Workloads.Model;
using AlphaRl.Workloads.Tasks;
using TorchSharp;
using static TorchSharp.torch;

namespace AlphaRl.Workloads.Training;

/// <summary>
/// How the elicitation task's base is pretrained: the mixture of formats, AdamW with cosine decay, gradient clipping.
/// Defaults are the committed base's recipe (<c>docs/evidence.md</c>).
/// </summary>
public sealed record PretrainingSettings
{
    /// <summary>Model width. Default 128.</summary>
    public int Width { get; init; } = 128;

    /// <summary>Transformer blocks. Default 2.</summary>
    public int Layers { get; init; } = 2;

    /// <summary>Optimizer steps. Default 1,500.</summary>
    public int Steps { get; init; } = 1500;

    /// <summary>Examples per step. Default 256.</summary>
    public int Batch { get; init; } = 256;

    /// <summary>Peak learning rate; cosine decay to a tenth of it. Default 1e-3.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Share of format-C examples (correct answers). Default 0.3.</summary>
    public double ShareC { get; init; } = 0.3;

    /// <summary>Share of format-N examples (no-carry answers). Default 0.3; the rest are format U.</summary>
    public double ShareN { get; init; } = 0.3;

    /// <summary>Probability that a format-U example carries the no-carry answer. Default 0.85.</summary>
    public double WrongShareU { get; init; } = 0.85;

    /// <summary>Seed of the initialisation and of the examples drawn. Default 1.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>The model shape.</summary>
    public GptConfig ModelConfig(ElicitationTask task) =>
        new(task.Alphabet.Length, task.PromptLength + task.AnswerLength, Width, Layers, Heads: 4, MlpWidth: 4 * Width);
}

/// <summary>
/// The pretrained base of the elicitation task. It is committed (<c>AlphaRL.Workloads/Bases/</c>) so that a fresh clone
/// starts RL at once, verified by its SHA-256 when loaded, and rebuilt bit-identically by
/// <c>dotnet run -c Release --project AlphaRL.Benchmarks -- pretrain-base</c>.
/// </summary>
public static class ElicitationBase
{
    /// <summary>The committed base's file name.</summary>
    public const string FileName = "elicit2-d128-l2.safetensors";

    /// <summary>SHA-256 of the committed base, as <c>sha256sum</c> prints it.</summary>
    public const string Sha256 = "f8d9eb4639555c9b333a31a45a34915340abf76ebff9a08f074bce3ee9823bac";

    /// <summary>
    /// Seed of the prompt split: fixed, so that the pairs held out for testing were never seen in pretraining whatever
    /// the RL seed.
    /// </summary>
    public const int SplitSeed = 0;

    /// <summary>Where the committed base is found next to the running assembly.</summary>
    public static string CommittedPath => Path.Combine(AppContext.BaseDirectory, "Bases", FileName);

    /// <summary>Pretrains a base on the mixture, reporting progress every 100 steps to <paramref name="log"/>.</summary>
    public static TinyGpt Train(PretrainingSettings settings, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var task = new ElicitationTask();
        var sets = new PromptSets(task, SplitSeed);
        var training = Enumerable.Range(0, (int)task.ProblemCount).Where(id => sets.IsTraining(id)).ToArray();
        torch.manual_seed(settings.Seed);
        var model = new TinyGpt(settings.ModelConfig(task));
        model.InitialiseNormal(0.02);
        var random = new Random(settings.Seed * 7919 + 3);
        using var optimizer = optim.AdamW(model.parameters(), lr: settings.LearningRate, beta1: 0.9, beta2: 0.98, weight_decay: 0.01);
        for (int step = 0; step < settings.Steps; step++)
        {
            using var scope = NewDisposeScope();
            double progress = (double)step / settings.Steps;
            double lr = settings.LearningRate * (0.1 + 0.9 * 0.5 * (1 + Math.Cos(Math.PI * progress)));
            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
            var texts = DrawMixture(settings, task, training, settings.Batch, random);
            var loss = -Sequences.AnswerLogProbs(model, Sequences.Encode(texts, task.Alphabet), task.PromptLength).mean();
            optimizer.zero_grad();
            loss.backward();
            nn.utils.clip_grad_norm_(model.parameters(), 1.0);
            optimizer.step();
            if ((step + 1) % 100 == 0) log?.Invoke($"pretraining step {step + 1}/{settings.Steps}: loss {loss.item<float>():F4}");
        }
        return model;
    }

    /// <summary>
    /// <paramref name="count"/> pretraining texts (prompt + answer) of the mixture, on pairs drawn uniformly from
    /// <paramref name="pairs"/>: format C with the share <see cref="PretrainingSettings.ShareC"/>, N with
    /// <see cref="PretrainingSettings.ShareN"/>, U otherwise.
    /// </summary>
    public static List<string> DrawMixture(PretrainingSettings settings, ElicitationTask task, IReadOnlyList<int> pairs, int count, Random random)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentNullException.ThrowIfNull(random);
        var texts = new List<string>(count);
        for (int i = 0; i < count; i++)
        {
            double r = random.NextDouble();
            var format = r < settings.ShareC ? PromptFormat.C : r < settings.ShareC + settings.ShareN ? PromptFormat.N : PromptFormat.U;
            texts.Add(task.PretrainingText(format, pairs[random.Next(pairs.Count)], settings.WrongShareU, random));
        }
        return texts;
    }

    /// <summary>Writes <paramref name="model"/>'s parameters as float32 safetensors, atomically; returns the file's SHA-256.</summary>
    public static string Save(TinyGpt model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        var tensors = model.named_parameters()
            .Select(p => (p.name, SafetensorsDType.F32, p.parameter.shape, p.parameter.detach().cpu().to(ScalarType.Float32).data<float>().ToArray()))
            .ToList();
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        string temporary = $"{path}.tmp-{Environment.ProcessId}";
        SafetensorsFile.Write(temporary, tensors);
        File.Move(temporary, path, overwrite: true);
        return HashOf(path);
    }

    /// <summary>
    /// Loads a base of shape <paramref name="config"/> from <paramref name="path"/> (the committed one by default),
    /// after checking that the file's SHA-256 is <paramref name="sha256"/> (the committed base's by default; null skips
    /// the check, for a base of one's own).
    /// </summary>
    /// <exception cref="InvalidOperationException">The file is missing, altered, or of another shape.</exception>
    public static TinyGpt Load(GptConfig config, string? path = null, string? sha256 = Sha256)
    {
        ArgumentNullException.ThrowIfNull(config);
        path ??= CommittedPath;
        const string rebuild = "dotnet run -c Release --project AlphaRL.Benchmarks -- pretrain-base";
        if (!File.Exists(path))
            throw new InvalidOperationException($"The elicitation base {path} is missing; rebuild it with `{rebuild}`.");
        if (sha256 is not null && HashOf(path) is var hash && hash != sha256)
            throw new InvalidOperationException($"The elicitation base {path} has SHA-256 {hash}, not the expected {sha256}; rebuild it with `{rebuild}`.");
        var model = new TinyGpt(config);
        using var file = SafetensorsFile.Open(path);
        using var noGrad = no_grad();
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (!file.TryGetTensor(name, out var info) || !info.Shape.SequenceEqual(parameter.shape))
                throw new InvalidOperationException($"The elicitation base {path} has no tensor '{name}' of shape [{string.Join(", ", parameter.shape)}]: it was pretrained for another model shape than {config.Tag}.");
            var values = new float[info.ElementCount];
            file.ReadFloats(info, values);
            parameter.copy_(tensor(values, parameter.shape));
        }
        return model;
    }

    /// <summary>
    /// The base for a model of <paramref name="settings"/>' shape: the committed one for its shape (width 128, 2 layers,
    /// seed 1), else one pretrained by the same recipe on first use and cached in <paramref name="cacheDirectory"/>
    /// (written atomically; <paramref name="log"/> hears the progress).
    /// </summary>
    public static TinyGpt LoadOrTrain(PretrainingSettings settings, string cacheDirectory, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var config = settings.ModelConfig(new ElicitationTask());
        if (settings == new PretrainingSettings()) return Load(config);
        string path = Path.Combine(cacheDirectory, $"elicit2-{config.Tag}-s{settings.Seed}-n{settings.Steps}.safetensors");
        if (!File.Exists(path))
        {
            log?.Invoke($"Pretraining the elicitation base at width {settings.Width}, {settings.Layers} layers ({settings.Steps} steps); cached at {path}.");
            using var model = Train(settings, log);
            Save(model, path);
        }
        return Load(config, path, sha256: null);
    }

    /// <summary>SHA-256 of a file, lower-case hex.</summary>
    public static string HashOf(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
