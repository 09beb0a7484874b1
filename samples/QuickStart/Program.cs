// AlphaRL quick start: a small policy learns a contextual bandit with REINFORCE (an RL loop in miniature);
// AlphaRL watches the early window, fits the rank-1 trajectory of every attention/MLP matrix and jumps ahead,
// guarded by held-out reward. Then the same run without AlphaRL shows what the skipped steps would have reached.
// dotnet run -c Release --project samples/QuickStart [-- --device cpu|cuda[:N]]  (default: CUDA when available, else CPU)
using System.Globalization;
using AlphaRl.TorchSharp;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

const int Steps = 400, Contexts = 16, Actions = 16;
if (ParseDevice(args) is not { } device) return 2;
Console.WriteLine($"Device: {device}");
using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information));

double Run(bool accelerate, int seed)
{
    random.manual_seed(seed);
    var policy = new BanditPolicy(Contexts, Actions, hidden: 64);
    policy.to(device); // AlphaRL follows the parameters: its snapshots and jumps run on their device.
    var optimizer = optim.Adam(policy.parameters(), lr: 1e-4);
    var heldOut = arange(Contexts, device: device);
    double Evaluate()
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        return policy.forward(heldOut).argmax(-1).eq(Target(heldOut)).to(ScalarType.Float32).mean().item<float>();
    }

    using var alpha = accelerate
        ? AlphaRL.Accelerate(policy, new AlphaRLOptions { Snapshots = { Interval = 10, Max = 6 }, Attempts = { MinSnapshots = 4 }, Jumps = { TargetStep = Steps } }, loggerFactory.CreateLogger("AlphaRL"))
        : null;
    if (alpha is not null)
        alpha.Jumped += (_, j) => { if (j.Kept) optimizer = optim.Adam(policy.parameters(), lr: 1e-4); };

    long effective = 0;
    for (int step = 1; effective < Steps; step++)
    {
        using (var scope = NewDisposeScope())
        {
            var contexts = randint(0, Contexts, [256], device: device);
            var logits = policy.forward(contexts);
            var actions = distributions.Categorical(logits: logits).sample();
            var reward = actions.eq(Target(contexts)).to(ScalarType.Float32);
            var logProb = logits.log_softmax(-1).gather(-1, actions.unsqueeze(-1)).squeeze(-1);
            var loss = -((reward - reward.mean()) * logProb).mean();
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
        }
        effective = alpha?.Step(step, Evaluate).EffectiveStep ?? step;
        if (alpha is not null && step % 50 == 0 || effective >= Steps)
            Console.WriteLine($"  trained {step,3} steps, weights at step {effective,3}: held-out reward {Evaluate():F3}");
        if (effective >= Steps && alpha is not null)
            Console.WriteLine($"AlphaRL: {alpha.JumpsKept} jump(s) kept, {alpha.StepsSkipped} steps skipped, overhead {alpha.OverheadTime.TotalMilliseconds:F0} ms, {alpha.MemoryBytes / 1024} KiB held");
    }
    return Evaluate();
}

static Tensor Target(Tensor contexts) => (contexts * 7 + 3) % Actions;

Console.WriteLine($"With AlphaRL (train until the weights stand at step {Steps}):");
double accelerated = Run(accelerate: true, seed: 1);
Console.WriteLine($"Without AlphaRL (train all {Steps} steps):");
double full = Run(accelerate: false, seed: 1);
Console.WriteLine($"Held-out reward at step {Steps}: {accelerated:F3} with AlphaRL, {full:F3} with full training.");
return 0;

// --device cpu, cuda or cuda:N; without it, the first CUDA device when CUDA is available, else the CPU.
static Device? ParseDevice(string[] args)
{
    int at = Array.IndexOf(args, "--device");
    string name = at < 0 ? (cuda.is_available() ? "cuda:0" : "cpu") : at + 1 < args.Length ? args[at + 1] : "";
    if (name == "cpu") return CPU;
    int index = 0;
    string? error = name != "cuda" && !(name.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(name.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out index))
        ? $"--device \"{name}\" is not a device: use cpu, cuda or cuda:N."
        : !cuda.is_available() ? $"--device {name}: CUDA is not available on this machine (torch.cuda.is_available() is false)."
        : index >= cuda.device_count() ? $"--device {name}: only {cuda.device_count()} CUDA device(s) on this machine."
        : null;
    if (error is null) return new Device(DeviceType.CUDA, index);
    Console.Error.WriteLine(error);
    return null;
}

/// <summary>A tiny policy whose weights are named like an LLM's, so AlphaRL's default selection covers them.</summary>
internal sealed class BanditPolicy : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Embedding tok_embeddings;
    private readonly TorchSharp.Modules.Linear up_proj, down_proj, lm_head;

    public BanditPolicy(int contexts, int actions, int hidden) : base(nameof(BanditPolicy))
    {
        tok_embeddings = nn.Embedding(contexts, hidden);
        up_proj = nn.Linear(hidden, 2 * hidden, hasBias: false);
        down_proj = nn.Linear(2 * hidden, hidden, hasBias: false);
        lm_head = nn.Linear(hidden, actions, hasBias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor contexts)
    {
        var h = tok_embeddings.forward(contexts);
        h = h + down_proj.forward(nn.functional.gelu(up_proj.forward(h)));
        return lm_head.forward(h);
    }
}
