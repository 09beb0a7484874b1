using AlphaRl.TorchSharp;
using AlphaRl.Workloads.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace AlphaRl.Tests.Workloads;

/// <summary>The small GPT: Llama-style weight names, shapes, causality, and what AlphaRL's default selection covers.</summary>
public class TinyGptTests
{
    private static readonly GptConfig Config = new(Vocabulary: 12, Context: 9, Width: 16, Layers: 2, Heads: 4, MlpWidth: 64);

    [Test]
    public void NamedParameters_FollowTheLlamaLayout()
    {
        using var model = new TinyGpt(Config);
        var shapes = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);

        Assert.That(shapes.Keys, Is.SupersetOf(new[]
        {
            "embed_tokens.weight", "embed_positions.weight", "lm_head.weight", "norm.weight", "norm.bias",
            "layers.0.self_attn.q_proj.weight", "layers.0.self_attn.k_proj.weight",
            "layers.0.self_attn.v_proj.weight", "layers.0.self_attn.o_proj.weight",
            "layers.0.mlp.up_proj.weight", "layers.0.mlp.down_proj.weight",
            "layers.0.input_layernorm.weight", "layers.0.post_attention_layernorm.weight",
            "layers.1.self_attn.q_proj.weight", "layers.1.mlp.down_proj.weight",
        }));
        Assert.That(shapes.Keys.Any(k => k.StartsWith("layers.2.", StringComparison.Ordinal)), Is.False);
        Assert.That(shapes["embed_tokens.weight"], Is.EqualTo(new long[] { 12, 16 }));
        Assert.That(shapes["embed_positions.weight"], Is.EqualTo(new long[] { 9, 16 }));
        Assert.That(shapes["lm_head.weight"], Is.EqualTo(new long[] { 12, 16 }));
        Assert.That(shapes["layers.1.mlp.up_proj.weight"], Is.EqualTo(new long[] { 64, 16 }));
        Assert.That(shapes["layers.1.mlp.down_proj.weight"], Is.EqualTo(new long[] { 16, 64 }));
        Assert.That(shapes["layers.0.self_attn.q_proj.weight"], Is.EqualTo(new long[] { 16, 16 }));
    }

    [Test]
    public void DefaultCoverage_IsExactlyTheSixAttentionAndMlpMatricesPerLayer()
    {
        using var model = new TinyGpt(Config);
        var coverage = ParameterCoverage.Select(model, new CoverageOptions());

        var expected = Enumerable.Range(0, Config.Layers).SelectMany(l => new[]
        {
            $"layers.{l}.self_attn.q_proj.weight", $"layers.{l}.self_attn.k_proj.weight",
            $"layers.{l}.self_attn.v_proj.weight", $"layers.{l}.self_attn.o_proj.weight",
            $"layers.{l}.mlp.up_proj.weight", $"layers.{l}.mlp.down_proj.weight",
        });
        Assert.That(coverage.Covered.Select(c => c.Name), Is.EquivalentTo(expected));
        var excluded = coverage.Excluded.Select(e => e.Name).ToList();
        Assert.That(excluded, Does.Contain("embed_tokens.weight"));
        Assert.That(excluded, Does.Contain("embed_positions.weight"));
        Assert.That(excluded, Does.Contain("lm_head.weight"));
        Assert.That(excluded, Does.Contain("layers.0.input_layernorm.weight"));
        Assert.That(coverage.Covered.Count + coverage.Excluded.Count, Is.EqualTo(model.named_parameters().Count()));
    }

    [Test]
    public void Forward_ShapeAndCausality()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(5);
        using var model = new TinyGpt(Config);
        var tokens = randint(0, 12, [4, 9], dtype: ScalarType.Int64);
        var changed = tokens.clone();
        changed[.., 8] = (tokens[.., 8] + 1) % 12;

        using var _ = no_grad();
        var logits = model.forward(tokens);
        var logits2 = model.forward(changed);

        Assert.That(logits.shape, Is.EqualTo(new long[] { 4, 9, 12 }));
        Assert.That(model.Hidden(tokens).shape, Is.EqualTo(new long[] { 4, 9, 16 }));
        // Changing the last token cannot change earlier positions' outputs, but changes the last one.
        Assert.That(logits.narrow(1, 0, 8).allclose(logits2.narrow(1, 0, 8), rtol: 0, atol: 1e-6), Is.True);
        Assert.That(logits.select(1, 8).allclose(logits2.select(1, 8), rtol: 0, atol: 1e-6), Is.False);
    }

    [Test]
    public void Forward_LongerThanTheContext_Throws()
    {
        using var scope = NewDisposeScope();
        using var model = new TinyGpt(Config);
        var tokens = zeros([1, 10], dtype: ScalarType.Int64);
        Assert.Throws<ArgumentException>(() => model.forward(tokens));
    }

    [Test]
    public void Constructor_WidthNotAMultipleOfHeads_Throws()
    {
        Assert.Throws<ArgumentException>(() => _ = new TinyGpt(Config with { Width = 18 }));
    }

    [Test]
    public void SameSeed_SameInitialWeights()
    {
        torch.manual_seed(9);
        using var a = new TinyGpt(Config);
        torch.manual_seed(9);
        using var b = new TinyGpt(Config);
        torch.manual_seed(10);
        using var c = new TinyGpt(Config);
        Assert.That(WorkloadWeights.Equal(a, b), Is.True);
        Assert.That(WorkloadWeights.Equal(a, c), Is.False);
    }
}
