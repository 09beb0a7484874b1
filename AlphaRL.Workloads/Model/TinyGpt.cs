using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AlphaRl.Workloads.Model;

/// <summary>Shape of a <see cref="TinyGpt"/>.</summary>
/// <param name="Vocabulary">Tokens in the vocabulary.</param>
/// <param name="Context">Longest sequence (positions).</param>
/// <param name="Width">Model width d.</param>
/// <param name="Layers">Transformer blocks.</param>
/// <param name="Heads">Attention heads; must divide <paramref name="Width"/>.</param>
/// <param name="MlpWidth">Hidden width of the MLP (usually 4d).</param>
public sealed record GptConfig(int Vocabulary, int Context, int Width = 64, int Layers = 2, int Heads = 4, int MlpWidth = 256)
{
    /// <summary>A short text that names the shape, for cache file names and reports.</summary>
    public string Tag => $"v{Vocabulary}-c{Context}-d{Width}-l{Layers}-h{Heads}-m{MlpWidth}";
}

/// <summary>
/// A small GPT-style causal language model: token and position embeddings, pre-norm blocks of causal self-attention
/// and a GELU MLP, a final norm and an output head. Weight names follow the Hugging Face Llama layout
/// (<c>layers.N.self_attn.q_proj.weight</c>, <c>layers.N.mlp.up_proj.weight</c>, ...), so AlphaRL's default selection
/// sees it as it would see a real LLM.
/// </summary>
public sealed class TinyGpt : nn.Module<Tensor, Tensor>
{
    private readonly Embedding embed_tokens, embed_positions;
    private readonly ModuleList<GptBlock> layers;
    private readonly LayerNorm norm;
    private readonly Linear lm_head;

    /// <summary>Builds the model with PyTorch's default initialisation (seed it with <c>torch.manual_seed</c>).</summary>
    public TinyGpt(GptConfig config) : base(nameof(TinyGpt))
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Width % config.Heads != 0)
            throw new ArgumentException($"Width {config.Width} is not a multiple of Heads {config.Heads}.", nameof(config));
        Config = config;
        embed_tokens = nn.Embedding(config.Vocabulary, config.Width);
        embed_positions = nn.Embedding(config.Context, config.Width);
        layers = nn.ModuleList(Enumerable.Range(0, config.Layers).Select(_ => new GptBlock(config)).ToArray());
        norm = nn.LayerNorm(config.Width);
        lm_head = nn.Linear(config.Width, config.Vocabulary, hasBias: false);
        RegisterComponents();
    }

    /// <summary>The shape this model was built with.</summary>
    public GptConfig Config { get; }

    /// <summary>
    /// GPT-2's initialisation: every weight matrix and embedding drawn from N(0, <paramref name="std"/>²) with torch's
    /// current seed, norms at scale 1 and shift 0.
    /// </summary>
    public void InitialiseNormal(double std)
    {
        using var noGrad = no_grad();
        foreach (var (name, parameter) in named_parameters())
        {
            bool isNorm = name.Contains("norm", StringComparison.Ordinal);
            if (isNorm && name.EndsWith(".weight", StringComparison.Ordinal)) parameter.fill_(1.0);
            else if (isNorm || name.EndsWith(".bias", StringComparison.Ordinal)) parameter.zero_();
            else nn.init.normal_(parameter, 0, std);
        }
    }

    /// <summary>Next-token logits [batch, time, vocabulary] for token ids [batch, time].</summary>
    public override Tensor forward(Tensor tokens) => lm_head.forward(Hidden(tokens));

    /// <summary>The final normalised hidden states [batch, time, width] (what the output head reads).</summary>
    public Tensor Hidden(Tensor tokens)
    {
        long time = tokens.shape[1];
        if (time > Config.Context)
            throw new ArgumentException($"Sequence of {time} tokens is longer than the model's context {Config.Context}.", nameof(tokens));
        using var positions = arange(time, device: tokens.device);
        var h = embed_tokens.forward(tokens) + embed_positions.forward(positions);
        foreach (var block in layers) h = block.forward(h);
        return norm.forward(h);
    }
}

/// <summary>One pre-norm transformer block: h + attn(norm(h)), then h + mlp(norm(h)).</summary>
internal sealed class GptBlock : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm input_layernorm, post_attention_layernorm;
    private readonly CausalSelfAttention self_attn;
    private readonly GeluMlp mlp;

    public GptBlock(GptConfig config) : base(nameof(GptBlock))
    {
        input_layernorm = nn.LayerNorm(config.Width);
        self_attn = new CausalSelfAttention(config);
        post_attention_layernorm = nn.LayerNorm(config.Width);
        mlp = new GeluMlp(config);
        RegisterComponents();
    }

    public override Tensor forward(Tensor h)
    {
        h = h + self_attn.forward(input_layernorm.forward(h));
        return h + mlp.forward(post_attention_layernorm.forward(h));
    }
}

internal sealed class CausalSelfAttention : nn.Module<Tensor, Tensor>
{
    private readonly Linear q_proj, k_proj, v_proj, o_proj;
    private readonly int _heads;

    public CausalSelfAttention(GptConfig config) : base(nameof(CausalSelfAttention))
    {
        _heads = config.Heads;
        q_proj = nn.Linear(config.Width, config.Width, hasBias: false);
        k_proj = nn.Linear(config.Width, config.Width, hasBias: false);
        v_proj = nn.Linear(config.Width, config.Width, hasBias: false);
        o_proj = nn.Linear(config.Width, config.Width, hasBias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        long batch = x.shape[0], time = x.shape[1], width = x.shape[2], headWidth = width / _heads;
        Tensor Split(Tensor t) => t.view(batch, time, _heads, headWidth).transpose(1, 2);
        var q = Split(q_proj.forward(x));
        var k = Split(k_proj.forward(x));
        var v = Split(v_proj.forward(x));
        var scores = q.matmul(k.transpose(-2, -1)) / Math.Sqrt(headWidth);
        using var future = ones(time, time, dtype: ScalarType.Bool, device: x.device).triu(1);
        var attention = scores.masked_fill(future, double.NegativeInfinity).softmax(-1);
        var y = attention.matmul(v).transpose(1, 2).contiguous().view(batch, time, width);
        return o_proj.forward(y);
    }
}

internal sealed class GeluMlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear up_proj, down_proj;

    public GeluMlp(GptConfig config) : base(nameof(GeluMlp))
    {
        up_proj = nn.Linear(config.Width, config.MlpWidth, hasBias: false);
        down_proj = nn.Linear(config.MlpWidth, config.Width, hasBias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => down_proj.forward(nn.functional.gelu(up_proj.forward(x)));
}
