using System.Numerics.Tensors;
using AlphaRl.Checkpoints;

namespace AlphaRl.DevTools;

/// <summary>Shape of a synthetic Llama-style model.</summary>
internal sealed record SyntheticModel(int Layers, int Hidden, int Intermediate, int Vocab, SafetensorsDType DType, int Shards = 1);

/// <summary>
/// Writes a synthetic RL checkpoint series with a known rank-1 linear path: for each covered matrix
/// W_t = W0 + (t·b) vᵀ + ε_t, with fixed b and unit v, and ε_t small i.i.d. noise (zero when <c>noise</c> is 0).
/// Non-covered tensors drift by a small constant per step so that tests can tell which checkpoint they came from.
/// Values are generated tensor by tensor, so writing a large series needs only a few tensors of memory.
/// </summary>
internal static class SyntheticSeries
{
    public static IReadOnlyList<(string Name, long[] Shape)> Tensors(SyntheticModel m)
    {
        var list = new List<(string, long[])> { ("model.embed_tokens.weight", [m.Vocab, m.Hidden]) };
        for (int i = 0; i < m.Layers; i++)
        {
            string p = $"model.layers.{i}.";
            list.Add((p + "input_layernorm.weight", [m.Hidden]));
            foreach (string x in new[] { "q_proj", "k_proj", "v_proj", "o_proj" })
                list.Add((p + $"self_attn.{x}.weight", [m.Hidden, m.Hidden]));
            list.Add((p + "post_attention_layernorm.weight", [m.Hidden]));
            list.Add((p + "mlp.gate_proj.weight", [m.Intermediate, m.Hidden]));
            list.Add((p + "mlp.up_proj.weight", [m.Intermediate, m.Hidden]));
            list.Add((p + "mlp.down_proj.weight", [m.Hidden, m.Intermediate]));
        }
        list.Add(("model.norm.weight", [m.Hidden]));
        list.Add(("lm_head.weight", [m.Vocab, m.Hidden]));
        return list;
    }

    public static bool IsCovered(string name) => name.Contains("_proj", StringComparison.Ordinal);

    /// <summary>The folder of a step under <paramref name="root"/> ("base" for step 0).</summary>
    public static string Folder(string root, long step) => Path.Combine(root, step == 0 ? "base" : $"step-{step}");

    /// <summary>The exact weights of a tensor at a step, with the noise of that step (<paramref name="noise"/> = 0 gives the clean path).</summary>
    public static float[] Weights(SyntheticModel m, int seed, string name, long[] shape, long step, float noise, float rate)
    {
        int index = Tensors(m).Select(t => t.Name).ToList().IndexOf(name);
        return Weights(shape, seed, index, IsCovered(name), step, noise, rate);
    }

    /// <summary>Writes base (step 0) and one folder per step, each with config.json and tokenizer.json.</summary>
    public static void Write(string root, SyntheticModel m, IReadOnlyList<long> steps, int seed = 1, float noise = 1e-4f, float rate = 1e-3f)
    {
        var allSteps = steps.Prepend(0L).ToList();
        var tensors = Tensors(m);
        int perShard = (tensors.Count + m.Shards - 1) / m.Shards;
        var shardOf = tensors.Select((t, i) => i / perShard).ToArray();
        string ShardName(int s) => m.Shards == 1 ? Checkpoint.SingleFileName : $"model-{s + 1:00000}-of-{m.Shards:00000}.safetensors";

        foreach (long step in allSteps)
        {
            string folder = Folder(root, step);
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, "config.json"), $"{{\"hidden_size\": {m.Hidden}, \"num_hidden_layers\": {m.Layers}, \"step\": {step}}}");
            File.WriteAllText(Path.Combine(folder, "tokenizer.json"), "{\"synthetic\": true}");
            if (m.Shards > 1)
            {
                var map = string.Join(",\n    ", tensors.Select((t, i) => $"\"{t.Name}\": \"{ShardName(shardOf[i])}\""));
                File.WriteAllText(Path.Combine(folder, Checkpoint.IndexFileName), $"{{\n  \"metadata\": {{\"total_size\": 0}},\n  \"weight_map\": {{\n    {map}\n  }}\n}}");
            }
        }
        var streams = new Dictionary<(long, int), FileStream>();
        try
        {
            for (int s = 0; s < m.Shards; s++)
            {
                var infos = new List<TensorInfo>();
                long offset = 0;
                for (int i = 0; i < tensors.Count; i++)
                {
                    if (shardOf[i] != s) continue;
                    long bytes = tensors[i].Shape.Aggregate(1L, (a, d) => a * d) * m.DType.Size();
                    infos.Add(new TensorInfo(tensors[i].Name, m.DType, tensors[i].Shape, offset, offset + bytes));
                    offset += bytes;
                }
                var header = SafetensorsFile.SerializeHeader(infos, new Dictionary<string, string> { ["format"] = "pt" });
                foreach (long step in allSteps)
                {
                    var stream = new FileStream(Path.Combine(Folder(root, step), ShardName(s)), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
                    streams.Add((step, s), stream);
                    stream.Write(header);
                }
            }
            for (int i = 0; i < tensors.Count; i++)
                foreach (long step in allSteps)
                    SafetensorsFile.WriteFloats(streams[(step, shardOf[i])], Weights(tensors[i].Shape, seed, i, IsCovered(tensors[i].Name), step, noise, rate), m.DType);
        }
        finally
        {
            foreach (var stream in streams.Values) stream.Dispose();
        }
    }

    private static float[] Weights(long[] shape, int seed, int index, bool covered, long step, float noise, float rate)
    {
        int rows = (int)shape[0], cols = shape.Length > 1 ? (int)shape[1] : 1;
        var w = new float[rows * cols];
        Fill(new Random(Mix(seed, index, 0)), w, 0.02f);
        if (step == 0) return w;
        if (!covered)
        {
            TensorPrimitives.Add(w, rate * step, w);
            return w;
        }
        var direction = new Random(Mix(seed, index, -1));
        var b = new float[rows];
        var v = new float[cols];
        Fill(direction, b, rate);
        Fill(direction, v, 1f);
        TensorPrimitives.Divide(v, TensorPrimitives.Norm(v), v);
        for (int r = 0; r < rows; r++)
        {
            var row = w.AsSpan(r * cols, cols);
            TensorPrimitives.MultiplyAdd(v, b[r] * step, row, row);
        }
        if (noise > 0)
        {
            var eps = new float[w.Length];
            Fill(new Random(Mix(seed, index, step + 1)), eps, noise);
            TensorPrimitives.Add(w, eps, w);
        }
        return w;
    }

    // Deterministic across processes (HashCode is seeded per process).
    private static int Mix(int seed, int index, long tag) => unchecked((int)(seed * 1_000_003L + index * 7_919L + tag * 104_729L));

    private static void Fill(Random random, Span<float> values, float scale)
    {
        for (int i = 0; i < values.Length; i++) values[i] = (random.NextSingle() * 2f - 1f) * scale;
    }
}
