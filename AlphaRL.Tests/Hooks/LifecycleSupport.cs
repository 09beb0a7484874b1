using AlphaRl.Tests.Support;
using AlphaRl.TorchSharp;
using AlphaRl.TorchSharp.Jumps;
using TorchSharp;
using static TorchSharp.torch;

namespace AlphaRl.Tests.Hooks;

/// <summary>
/// A deterministic stand-in for an optimizer and a held-out evaluation on a <see cref="TinyPolicy"/>: each step moves
/// every trainable tensor by a fixed direction scaled by a step-dependent factor (and shrinks it slightly, so the update
/// depends on the weights); the score is a fixed linear functional of the covered weights, so jumps ahead score higher.
/// Everything depends only on the weights and the step counted from the run's start, so runs can be compared bit for bit.
/// </summary>
internal sealed class Lifecycle : IDisposable
{
    private readonly Dictionary<string, Tensor> _direction = new();

    public Lifecycle(int seed = 3)
    {
        var random = new Random(seed);
        using var probe = NewPolicy(seed);
        foreach (var (name, p) in probe.named_parameters())
        {
            var values = new float[p.NumberOfElements];
            for (int i = 0; i < values.Length; i++) values[i] = Synthetic.Gaussian(random) * 0.01f;
            _direction[name] = tensor(values, p.shape).DetachFromDisposeScope();
        }
    }

    /// <summary>A policy with weights drawn from <paramref name="seed"/> (so two calls give the same weights).</summary>
    public static TinyPolicy NewPolicy(int seed = 3)
    {
        var policy = new TinyPolicy(d: 8, layerCount: 2);
        var random = new Random(seed * 7919 + 1);
        using var scope = NewDisposeScope();
        foreach (var (_, p) in policy.named_parameters())
        {
            var values = new float[p.NumberOfElements];
            for (int i = 0; i < values.Length; i++) values[i] = Synthetic.Gaussian(random) * 0.3f;
            Weights.Set(p, tensor(values, p.shape));
        }
        return policy;
    }

    /// <summary>One optimizer step number <paramref name="t"/> (counted from the run's start).</summary>
    public void Train(nn.Module policy, long t)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        float factor = (float)(1 + 0.3 * Math.Sin(t * 0.05));
        foreach (var (name, p) in policy.named_parameters())
        {
            p.mul_(0.9995f);
            p.add_(_direction[name] * factor);
        }
    }

    /// <summary>Higher the further the covered weights went along the training direction.</summary>
    public double Score(nn.Module policy)
    {
        using var scope = NewDisposeScope();
        double sum = 0;
        foreach (var (name, p) in policy.named_parameters())
            if (p.dim() == 2) sum += (p.detach() * _direction[name]).sum().item<float>();
        return sum;
    }

    /// <summary>Every method with its own state: velocity sums, the rank-1 line with extrapolated uncovered tensors, the direction with uncovered tensors.</summary>
    public static AlphaRLOptions Options() => new()
    {
        Snapshots = { Interval = 5, Max = 8 },
        Attempts = { MinSnapshots = 4, Schedule = JumpSchedule.Repeated, MaxJumps = 3 },
        Jumps = { Lengths = [0, 1, 2], Methods = [new VelocityJumpOptions(), new Rank1LineJumpOptions { Uncovered = UncoveredTensors.Extrapolate }, new DirectionJumpOptions { IncludeUncovered = true }] },
    };

    public static byte[] Hash(nn.Module policy)
    {
        using var sha = System.Security.Cryptography.SHA256.Create();
        foreach (var (name, p) in policy.named_parameters())
        {
            var nameBytes = System.Text.Encoding.UTF8.GetBytes(name);
            sha.TransformBlock(nameBytes, 0, nameBytes.Length, null, 0);
            var bytes = Synthetic.Bytes(p);
            sha.TransformBlock(bytes, 0, bytes.Length, null, 0);
        }
        sha.TransformFinalBlock([], 0, 0);
        return sha.Hash!;
    }

    public void Dispose()
    {
        foreach (var t in _direction.Values) t.Dispose();
    }
}
