using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AlphaRl.Tests.Support;

/// <summary>Deterministic synthetic data for the tests.</summary>
internal static class Synthetic
{
    /// <summary>A row-major rows × cols matrix: a few strong, well-separated rank-1 components plus noise.</summary>
    public static float[] LowRankPlusNoise(int rows, int cols, int seed, float noise = 0.01f)
    {
        var random = new Random(seed);
        var a = new float[rows * cols];
        float[] strengths = [10f, 5f, 2.5f];
        foreach (float s in strengths)
        {
            var u = UnitVector(rows, random);
            var v = UnitVector(cols, random);
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++)
                    a[i * cols + j] += s * u[i] * v[j];
        }
        for (int k = 0; k < a.Length; k++) a[k] += noise * Gaussian(random);
        return a;
    }

    public static float[] UnitVector(int length, Random random)
    {
        var v = new float[length];
        double norm = 0;
        for (int i = 0; i < length; i++)
        {
            v[i] = Gaussian(random);
            norm += (double)v[i] * v[i];
        }
        for (int i = 0; i < length; i++) v[i] = (float)(v[i] / Math.Sqrt(norm));
        return v;
    }

    public static float Gaussian(Random random)
    {
        double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }

    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        return dot / Math.Sqrt(na * nb);
    }

    public static float[] ToArray(Tensor t) => t.detach().cpu().to(ScalarType.Float32).contiguous().data<float>().ToArray();

    /// <summary>Bytes of a tensor's storage, to compare weights bit-for-bit whatever the dtype.</summary>
    public static byte[] Bytes(Tensor t) => t.detach().cpu().contiguous().bytes.ToArray();
}

/// <summary>A tiny transformer-like policy with LLM-style parameter names.</summary>
internal sealed class TinyPolicy : nn.Module<Tensor, Tensor>
{
    private readonly Embedding tok_embeddings;
    private readonly ModuleList<TinyBlock> layers;
    private readonly LayerNorm norm;
    private readonly Linear lm_head;

    public TinyPolicy(int d = 16, int layerCount = 2, int vocab = 12, ScalarType dtype = ScalarType.Float32) : base(nameof(TinyPolicy))
    {
        tok_embeddings = nn.Embedding(vocab, d);
        layers = nn.ModuleList(Enumerable.Range(0, layerCount).Select(_ => new TinyBlock(d)).ToArray());
        norm = nn.LayerNorm(d);
        lm_head = nn.Linear(d, vocab, hasBias: false);
        RegisterComponents();
        if (dtype != ScalarType.Float32) this.to(dtype);
    }

    public override Tensor forward(Tensor tokens)
    {
        var x = tok_embeddings.forward(tokens);
        foreach (var layer in layers) x = layer.forward(x);
        return lm_head.forward(norm.forward(x));
    }
}

internal sealed class TinyBlock : nn.Module<Tensor, Tensor>
{
    private readonly Linear q_proj, k_proj, v_proj, o_proj, up_proj, down_proj;
    private readonly LayerNorm input_norm;

    public TinyBlock(int d) : base(nameof(TinyBlock))
    {
        q_proj = nn.Linear(d, d, hasBias: false);
        k_proj = nn.Linear(d, d, hasBias: false);
        v_proj = nn.Linear(d, d, hasBias: false);
        o_proj = nn.Linear(d, d, hasBias: true);
        up_proj = nn.Linear(d, 2 * d, hasBias: false);
        down_proj = nn.Linear(2 * d, d, hasBias: false);
        input_norm = nn.LayerNorm(d);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var h = input_norm.forward(x);
        var attention = o_proj.forward(v_proj.forward(h) * q_proj.forward(h).sigmoid() + k_proj.forward(h));
        return x + attention + down_proj.forward(up_proj.forward(h).relu());
    }
}
