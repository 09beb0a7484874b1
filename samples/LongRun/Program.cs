// AlphaRL in a long run: a run already at step 100 (its checkpoint) gets AlphaRL attached mid-run, is interrupted at
// step 160 (policy, optimizer and AlphaRL session checkpointed), resumed in fresh objects and trained until its weights
// stand at step 400. The same run without the interruption ends with the same weights, bit for bit: the hashes match.
// After each kept jump the optimizer is replaced and the learning-rate schedule moved on by the skipped steps.
using System.Security.Cryptography;
using AlphaRl.TorchSharp;
using Microsoft.Extensions.Logging;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

const int Contexts = 16, Actions = 16, RunStart = 100, Interrupt = 160, Target = 400;
const double BaseLr = 3e-4;
using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
string work = Path.Combine(Path.GetTempPath(), "alpharl-longrun-" + Guid.NewGuid().ToString("N"));
Directory.CreateDirectory(work);

// The learning rate halves every 100 steps; LambdaLR sets it from the step count, so a new schedule stepped n times
// stands exactly where the old one would.
static double Schedule(int step) => Math.Pow(0.5, step / 100);
static AdamW NewOptimizer(nn.Module policy) => optim.AdamW(policy.parameters(), lr: BaseLr);
static optim.lr_scheduler.LRScheduler NewSchedule(AdamW optimizer, long steps)
{
    var scheduler = optim.lr_scheduler.LambdaLR(optimizer, Schedule);
    for (long i = 0; i < steps; i++) scheduler.step();
    return scheduler;
}
static Tensor Answer(Tensor contexts) => (contexts * 7 + 3) % Actions;

// One REINFORCE step; its samples depend only on the step number, so an interrupted run draws the same ones.
static void TrainStep(nn.Module<Tensor, Tensor> policy, AdamW optimizer, long step)
{
    using var scope = NewDisposeScope();
    var device = policy.parameters().First().device;
    var generator = new Generator((ulong)step);
    var contexts = randint(0, Contexts, [256], generator: generator).to(device);
    var logits = policy.forward(contexts);
    var probabilities = logits.softmax(-1);
    var actions = multinomial(probabilities.cpu(), 1, generator: generator).squeeze(-1).to(device);
    var reward = actions.eq(Answer(contexts)).to(ScalarType.Float32);
    var logProb = logits.log_softmax(-1).gather(-1, actions.unsqueeze(-1)).squeeze(-1);
    var loss = -((reward - reward.mean()) * logProb).mean();
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
}

// Held-out evaluation with its uncertainty: the per-context rewards, so the guard can allow for noise.
static GuardScore Evaluate(nn.Module<Tensor, Tensor> policy)
{
    using var noGrad = no_grad();
    using var scope = NewDisposeScope();
    var device = policy.parameters().First().device;
    var contexts = arange(Contexts, device: device);
    var correct = policy.forward(contexts).argmax(-1).eq(Answer(contexts)).to(ScalarType.Float64).cpu().data<double>().ToArray();
    return GuardScore.FromSamples(correct);
}

static string Hash(nn.Module policy)
{
    using var sha = SHA256.Create();
    foreach (var (_, p) in policy.named_parameters())
    {
        var bytes = p.detach().cpu().contiguous().bytes.ToArray();
        sha.TransformBlock(bytes, 0, bytes.Length, null, 0);
    }
    sha.TransformFinalBlock([], 0, 0);
    return Convert.ToHexString(sha.Hash!)[..16];
}

AlphaRLOptions Options() => new()
{
    Snapshots = { StartStep = RunStart, Interval = 10, Max = 6 },  // the policy is at step 100 when the session starts
    Attempts = { MinSnapshots = 4, Schedule = JumpSchedule.Repeated, MaxJumps = 3 },
    Jumps = { Lengths = [0, 1, 2, 4] },
    Guard = { NoiseZ = 1.0 },  // keep a jump unless it is worse by more than one standard error of the difference
};

// Training from `from` until the weights stand at Target (or, when `stopAt` is set, until that trained step).
long Train(BanditPolicy policy, ref AdamW optimizer, ref optim.lr_scheduler.LRScheduler scheduler, AlphaRLSession alpha, long from, long? stopAt)
{
    var opt = optimizer;
    var sched = scheduler;
    EventHandler<JumpOutcome> onJump = (_, jump) =>
    {
        if (!jump.Kept) return;
        Console.WriteLine($"  jump kept at trained step {jump.TrainedStep}: weights {jump.FromStep} -> {jump.TargetStep} ({jump.Method} j={jump.Length}, score {jump.ScoreBefore:F3} -> {jump.ScoreAfter:F3})");
        (opt, sched) = OptimizerRestart.AfterJump(opt, () => NewOptimizer(policy), o => NewSchedule(o, 0), scheduleSteps: alpha.LastStep + alpha.StepsSkipped);
    };
    alpha.Jumped += onJump;
    long step = from, effective = from + alpha.StepsSkipped;
    while (effective < Target && (stopAt is null || step < stopAt))
    {
        step++;
        TrainStep(policy, opt, step);
        sched.step();
        effective = alpha.Step(step, _ => Evaluate(policy)).EffectiveStep;
    }
    alpha.Jumped -= onJump;
    optimizer = opt;
    scheduler = sched;
    return step;
}

// The run so far: 100 steps without AlphaRL, checkpointed.
random.manual_seed(1);
var start = new BanditPolicy(Contexts, Actions, hidden: 64);
var startOptimizer = NewOptimizer(start);
var startSchedule = NewSchedule(startOptimizer, 0);
for (long step = 1; step <= RunStart; step++) { TrainStep(start, startOptimizer, step); startSchedule.step(); }
string checkpointStart = Path.Combine(work, $"checkpoint-{RunStart}");
Directory.CreateDirectory(checkpointStart);
start.save(Path.Combine(checkpointStart, "policy.bin"));
startOptimizer.save_state_dict(Path.Combine(checkpointStart, "optimizer.bin"));
Console.WriteLine($"The run so far: {RunStart} steps, held-out reward {Evaluate(start).Mean:F3}.");

(BanditPolicy, AdamW, optim.lr_scheduler.LRScheduler) Load(string folder, long step)
{
    var policy = new BanditPolicy(Contexts, Actions, hidden: 64);
    policy.load(Path.Combine(folder, "policy.bin"));
    var optimizer = NewOptimizer(policy);
    var scheduler = NewSchedule(optimizer, step);
    optimizer.load_state_dict(Path.Combine(folder, "optimizer.bin"));
    return (policy, optimizer, scheduler);
}

// Uninterrupted: attach AlphaRL at step 100 and train until the weights stand at step 400.
Console.WriteLine($"Uninterrupted, from step {RunStart}:");
var (plain, plainOptimizer, plainSchedule) = Load(checkpointStart, RunStart);
string plainHash;
using (var alpha = AlphaRL.Accelerate(plain, Options(), loggerFactory.CreateLogger("AlphaRL")))
{
    long trained = Train(plain, ref plainOptimizer, ref plainSchedule, alpha, RunStart, null);
    plainHash = Hash(plain);
    Console.WriteLine($"  trained {trained} steps, weights at step {trained + alpha.StepsSkipped}, held-out reward {Evaluate(plain).Mean:F3}, {alpha.JumpsKept} jump(s) kept; weights {plainHash}");
}

// Interrupted at step 160: policy, optimizer and session saved, everything disposed, then resumed in fresh objects.
Console.WriteLine($"Interrupted at step {Interrupt} and resumed:");
string checkpointInterrupt = Path.Combine(work, $"checkpoint-{Interrupt}");
{
    var (policy, optimizer, scheduler) = Load(checkpointStart, RunStart);
    using var alpha = AlphaRL.Accelerate(policy, Options(), loggerFactory.CreateLogger("AlphaRL"));
    Train(policy, ref optimizer, ref scheduler, alpha, RunStart, Interrupt);
    Directory.CreateDirectory(checkpointInterrupt);
    policy.save(Path.Combine(checkpointInterrupt, "policy.bin"));
    optimizer.save_state_dict(Path.Combine(checkpointInterrupt, "optimizer.bin"));
    alpha.Save(Path.Combine(checkpointInterrupt, "alpharl"));
    // The schedule's position is the step the weights stand at: trained steps plus the steps jumps skipped.
    File.WriteAllText(Path.Combine(checkpointInterrupt, "schedule-step.txt"), (alpha.LastStep + alpha.StepsSkipped).ToString());
    Console.WriteLine($"  saved at trained step {alpha.LastStep} (weights at step {alpha.LastStep + alpha.StepsSkipped}, {alpha.JumpsKept} jump(s) kept so far)");
    policy.Dispose();
    optimizer.Dispose();
}
{
    // A fresh start, as after a crash: policy, optimizer and schedule from the checkpoint, then the session on top.
    long scheduleStep = long.Parse(File.ReadAllText(Path.Combine(checkpointInterrupt, "schedule-step.txt")));
    var (policy, optimizer, scheduler) = Load(checkpointInterrupt, scheduleStep);
    using var alpha = AlphaRL.Resume(policy, Path.Combine(checkpointInterrupt, "alpharl"), logger: loggerFactory.CreateLogger("AlphaRL"));
    long trained = Train(policy, ref optimizer, ref scheduler, alpha, alpha.LastStep, null);
    string resumedHash = Hash(policy);
    Console.WriteLine($"  trained {trained} steps, weights at step {trained + alpha.StepsSkipped}, held-out reward {Evaluate(policy).Mean:F3}, {alpha.JumpsKept} jump(s) kept; weights {resumedHash}");
    Console.WriteLine(resumedHash == plainHash ? "Same weights as the uninterrupted run: yes." : "Same weights as the uninterrupted run: NO.");
}
Directory.Delete(work, recursive: true);

/// <summary>A tiny policy whose weights are named like an LLM's, so AlphaRL's default selection covers them.</summary>
internal sealed class BanditPolicy : nn.Module<Tensor, Tensor>
{
    private readonly Embedding tok_embeddings;
    private readonly Linear up_proj, down_proj, lm_head;

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
