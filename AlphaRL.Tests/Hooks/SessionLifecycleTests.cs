using AlphaRl.Tests.Checkpoints;
using AlphaRl.Tests.Support;
using AlphaRl.TorchSharp;
using AlphaRl.TorchSharp.Jumps;
using TorchSharp;
using static TorchSharp.torch;

namespace AlphaRl.Tests.Hooks;

/// <summary>Start mid-run, owned settings, save and resume: a resumed or shifted run must equal the plain one bit for bit.</summary>
public class SessionLifecycleTests : TempFolderTests
{
    private const int Steps = 90;

    /// <summary>The guard: rejects every candidate of the attempt at trained step 40 (relative to the start), else scores the weights.</summary>
    private static Func<GuardContext, GuardScore> Guard(Lifecycle run, nn.Module policy, long start) =>
        c => c.Phase == GuardPhase.After && c.Step - start == 40 ? -1e9 : run.Score(policy);

    private sealed record Trace(byte[] Hash, List<StepOutcome> Outcomes, Dictionary<string, byte[]> Weights);

    /// <summary>Trains from <paramref name="start"/> to start + Steps, the session started as <paramref name="startStep"/> says.</summary>
    private static Trace Run(long start, long? startStep, int from = 1, int to = Steps)
    {
        using var run = new Lifecycle();
        using var policy = Lifecycle.NewPolicy();
        var options = Lifecycle.Options();
        options.Snapshots.StartStep = startStep;
        using var alpha = AlphaRL.Accelerate(policy, options);
        var outcomes = new List<StepOutcome>();
        for (int t = from; t <= to; t++)
        {
            run.Train(policy, t);
            outcomes.Add(alpha.Step(start + t, Guard(run, policy, start)));
        }
        return new Trace(Lifecycle.Hash(policy), outcomes, Weights.Snapshot(policy));
    }

    [Test]
    public void UninterruptedRun_TriesKeptAndRejectedJumps()
    {
        var trace = Run(0, null);
        var actions = trace.Outcomes.Where(o => o.Jump is not null).Select(o => (o.Step, o.Action)).ToList();
        Assert.That(actions, Is.EqualTo(new[] { (20L, StepAction.JumpKept), (40L, StepAction.JumpRejected), (60L, StepAction.JumpKept), (80L, StepAction.JumpKept) }),
            "the scenario the resume tests interrupt must hold kept and rejected jumps");
    }

    [TestCase(1000L, true)]
    [TestCase(1000L, false)]
    public void SessionStartedAtStep1000_BehavesLikeOneStartedAt0_ShiftedBy1000(long start, bool explicitStart)
    {
        var plain = Run(0, null);
        var shifted = Run(start, explicitStart ? start : null);
        Assert.That(shifted.Hash, Is.EqualTo(plain.Hash), "same weights bit for bit");
        for (int i = 0; i < plain.Outcomes.Count; i++)
        {
            var (a, b) = (plain.Outcomes[i], shifted.Outcomes[i]);
            Assert.That(b.Step, Is.EqualTo(a.Step + start));
            Assert.That(b.EffectiveStep, Is.EqualTo(a.EffectiveStep + start), $"step {b.Step}");
            Assert.That(b.Action, Is.EqualTo(a.Action), $"step {b.Step}");
            if (a.Jump is null) continue;
            Assert.That((b.Jump!.FromStep, b.Jump.TargetStep, b.Jump.Method, b.Jump.Length, b.Jump.ScoreAfter),
                Is.EqualTo((a.Jump.FromStep + start, a.Jump.TargetStep + start, a.Jump.Method, a.Jump.Length, a.Jump.ScoreAfter)));
        }
    }

    [Test]
    public void FirstStepBeyondTheFirstInterval_StartsTheSessionAtTheStepBefore()
    {
        using var policy = Lifecycle.NewPolicy();
        using var alpha = AlphaRL.Accelerate(policy, Lifecycle.Options());
        Assert.That(alpha.StartStep, Is.Null);
        alpha.Step(1001);
        Assert.That(alpha.StartStep, Is.EqualTo(1000));
        using var early = AlphaRL.Accelerate(policy, Lifecycle.Options());
        early.Step(5);
        Assert.That(early.StartStep, Is.EqualTo(0), "a first step within the first interval: the run started at 0");
    }

    [Test]
    public void StepAtOrBeforeTheStartStep_IsRefusedNamingTheStart()
    {
        using var policy = Lifecycle.NewPolicy();
        var options = Lifecycle.Options();
        options.Snapshots.StartStep = 1000;
        using var alpha = AlphaRL.Accelerate(policy, options);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => alpha.Step(1000));
        Assert.That(e!.Message, Does.Contain("start step").And.Contain("1001"));
    }

    // Interrupt before the first snapshot, inside a window, at and after a kept jump, at and after a rejected one, after the jumps are spent.
    [TestCase(3, false)]
    [TestCase(12, true)]
    [TestCase(20, false)]
    [TestCase(23, true)]
    [TestCase(40, true)]
    [TestCase(47, false)]
    [TestCase(61, true)]
    [TestCase(85, false)]
    public void RunInterruptedAndResumed_EndsWithTheUninterruptedRunsWeights(int interruptAt, bool passOptions)
    {
        var plain = Run(0, null);
        string folder = Temp["state"];
        Dictionary<string, byte[]> checkpoint;
        StepOutcome[] before;
        using (var run = new Lifecycle())
        using (var policy = Lifecycle.NewPolicy())
        using (var alpha = AlphaRL.Accelerate(policy, Lifecycle.Options()))
        {
            before = Enumerable.Range(1, interruptAt).Select(t => { run.Train(policy, t); return alpha.Step(t, Guard(run, policy, 0)); }).ToArray();
            alpha.Save(folder);
            checkpoint = Weights.Snapshot(policy);   // the run's own checkpoint of the policy
        }

        using var resumedRun = new Lifecycle();
        using var resumedPolicy = new TinyPolicy(d: 8, layerCount: 2);   // other weights until the checkpoint is loaded
        foreach (var (name, p) in resumedPolicy.named_parameters())
        {
            using var scope = NewDisposeScope();
            var saved = empty(p.shape, p.dtype);
            checkpoint[name].CopyTo(saved.bytes);
            Weights.Set(p, saved);
        }
        using var resumed = AlphaRL.Resume(resumedPolicy, folder, passOptions ? Lifecycle.Options() : null);
        Assert.That(resumed.LastStep, Is.EqualTo(interruptAt));
        Assert.That(resumed.Jumps.Count, Is.EqualTo(before.Count(o => o.Jump is not null)));
        var after = new List<StepOutcome>();
        for (int t = interruptAt + 1; t <= Steps; t++)
        {
            resumedRun.Train(resumedPolicy, t);
            after.Add(resumed.Step(t, Guard(resumedRun, resumedPolicy, 0)));
        }
        Assert.That(Lifecycle.Hash(resumedPolicy), Is.EqualTo(plain.Hash), "bit-identical final weights");
        Assert.That(after.Select(o => (o.Step, o.EffectiveStep, o.Action)), Is.EqualTo(plain.Outcomes.Skip(interruptAt).Select(o => (o.Step, o.EffectiveStep, o.Action))));
        Assert.That(resumed.StepsSkipped, Is.EqualTo(plain.Outcomes[^1].EffectiveStep - Steps));
    }

    [Test]
    public void SavingAtEveryStep_FreesWhatItWrapped_AndChangesNothingInTheRun()
    {
        // Save wraps the window's vectors and the sketches as tensors for writing and must free exactly those: a leak
        // grows the live count, freeing one of the session's own tensors breaks the rest of the run.
        var plain = Run(0, null);
        using var run = new Lifecycle();
        using var policy = Lifecycle.NewPolicy();
        using var alpha = AlphaRL.Accelerate(policy, Lifecycle.Options());
        long Live() => DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        string folder = Temp["state"];
        var liveAfterSave = new List<long>();
        for (int t = 1; t <= Steps; t++)
        {
            run.Train(policy, t);
            alpha.Step(t, Guard(run, policy, 0));
            long before = Live();
            alpha.Save(folder, overwrite: true);
            liveAfterSave.Add(Live() - before);
        }
        Assert.That(liveAfterSave, Is.All.EqualTo(0L), "live native tensors added by each Save");
        Assert.That(Lifecycle.Hash(policy), Is.EqualTo(plain.Hash), "saving at every step leaves the run bit-identical");
    }

    [Test]
    public void Save_IsAtomic_RefusesAnExistingFolder_AndOverwritesOnlyWhenAsked()
    {
        using var policy = Lifecycle.NewPolicy();
        using var alpha = AlphaRL.Accelerate(policy, Lifecycle.Options());
        alpha.Step(1);
        string folder = Temp["state"];
        alpha.Save(folder);
        Assert.That(Directory.GetFiles(folder).Select(Path.GetFileName), Is.EquivalentTo(new[] { "session.json", "settings.json", "jumps.json", "tensors.safetensors" }));
        var e = Assert.Throws<AlphaRLException>(() => alpha.Save(folder));
        Assert.That(e!.Message, Does.Contain("already exists"));
        alpha.Step(2);
        alpha.Save(folder, overwrite: true);
        Assert.That(File.ReadAllText(Path.Combine(folder, "session.json")), Does.Contain("\"lastStep\": 2"));
        Assert.That(Directory.GetDirectories(Temp.Path), Has.Length.EqualTo(1), "no temporary folder left beside it");
    }

    [Test]
    public void Resume_OnAPolicyWithOtherShapes_FailsNamingTheMatrix()
    {
        string folder = Temp["state"];
        using (var policy = Lifecycle.NewPolicy())
        using (var alpha = AlphaRL.Accelerate(policy, Lifecycle.Options()))
        {
            alpha.Step(5);
            alpha.Save(folder);
        }
        using var other = new TinyPolicy(d: 12, layerCount: 2);
        var e = Assert.Throws<AlphaRLException>(() => AlphaRL.Resume(other, folder));
        Assert.That(e!.Message, Does.Contain("layers.0.q_proj.weight").And.Contain("[8, 8]").And.Contain("[12, 12]"));
        using var fewer = new TinyPolicy(d: 8, layerCount: 1);
        e = Assert.Throws<AlphaRLException>(() => AlphaRL.Resume(fewer, folder));
        Assert.That(e!.Message, Does.Contain("'layers.1.q_proj.weight' was covered but is not covered in this policy"));
        using var half = new TinyPolicy(d: 8, layerCount: 2, dtype: ScalarType.BFloat16);
        e = Assert.Throws<AlphaRLException>(() => AlphaRL.Resume(half, folder));
        Assert.That(e!.Message, Does.Contain("was Float32 and is BFloat16"));
    }

    [Test]
    public void Resume_WithOptionsThatShapeTheStateDifferently_FailsNamingEverySetting()
    {
        string folder = Temp["state"];
        using var policy = Lifecycle.NewPolicy();
        using (var alpha = AlphaRL.Accelerate(policy, Lifecycle.Options()))
        {
            alpha.Step(5);
            alpha.Save(folder);
        }
        var options = Lifecycle.Options();
        options.Snapshots.Interval = 10;
        options.Jumps.Methods = [new VelocityJumpOptions { SkipSnapshots = 1 }];
        var e = Assert.Throws<AlphaRLException>(() => AlphaRL.Resume(policy, folder, options));
        Assert.That(e!.Message, Does.Contain("AlphaRLOptions.Snapshots.Interval is 5 in the saved state and 10 in the options given").And.Contain("AlphaRLOptions.Jumps.Methods"));
        // Settings that do not shape the state may change.
        var lenient = Lifecycle.Options();
        lenient.Guard.Tolerance = 0.5;
        using var resumed = AlphaRL.Resume(policy, folder, lenient);
        Assert.That(resumed.Options.Guard.Tolerance, Is.EqualTo(0.5));
    }

    [Test]
    public void Resume_FromAFolderThatIsNotASavedSession_FailsClearly()
    {
        using var policy = Lifecycle.NewPolicy();
        var e = Assert.Throws<AlphaRLException>(() => AlphaRL.Resume(policy, Temp["missing"]));
        Assert.That(e!.Message, Does.Contain("does not exist"));
        Directory.CreateDirectory(Temp["empty"]);
        e = Assert.Throws<AlphaRLException>(() => AlphaRL.Resume(policy, Temp["empty"]));
        Assert.That(e!.Message, Does.Contain("session.json is missing"));
        string folder = Temp["state"];
        using (var alpha = AlphaRL.Accelerate(policy, Lifecycle.Options())) alpha.Save(folder);
        string json = Path.Combine(folder, "session.json");
        File.WriteAllText(json, File.ReadAllText(json).Replace("\"version\": 2", "\"version\": 99"));
        e = Assert.Throws<AlphaRLException>(() => AlphaRL.Resume(policy, folder));
        Assert.That(e!.Message, Does.Contain("version 99"));
    }

    [Test]
    public void SettingsChangedAfterTheStart_HaveNoEffect_AndTheEffectiveSettingsAreReadable()
    {
        using var policy = Lifecycle.NewPolicy();
        var options = Lifecycle.Options();
        using var alpha = AlphaRL.Accelerate(policy, options);
        options.Snapshots.Interval = 0;
        options.Jumps.Methods.Clear();
        options.Jumps.Lengths.Add(100);
        ((VelocityJumpOptions)Lifecycle.Options().Jumps.Methods[0]).SkipSnapshots = 2;
        for (int t = 1; t <= 5; t++) Assert.DoesNotThrow(() => alpha.Step(t));
        var effective = alpha.Options;
        Assert.That(effective.Snapshots.Interval, Is.EqualTo(5));
        Assert.That(effective.Jumps.Methods.Select(m => m.Name), Is.EqualTo(new[] { "velocity", "rank1", "direction" }));
        Assert.That(effective.Jumps.Lengths, Is.EqualTo(new[] { 0.0, 1, 2 }));
        effective.Attempts.MaxJumps = 99;
        effective.Jumps.Methods.Clear();
        Assert.That(alpha.Options.Attempts.MaxJumps, Is.EqualTo(3), "Options is a copy");
        Assert.That(alpha.Options.Jumps.Methods, Has.Count.EqualTo(3));
    }

    [Test]
    public void MethodOptionsChangedAfterTheStart_HaveNoEffect()
    {
        using var policy = Lifecycle.NewPolicy();
        var velocity = new VelocityJumpOptions();
        var options = new AlphaRLOptions { Snapshots = { Interval = 5 }, Attempts = { MinSnapshots = 4 }, Jumps = { Methods = { velocity } } };
        using var alpha = AlphaRL.Accelerate(policy, options);
        velocity.SkipSnapshots = 99;
        Assert.That(((VelocityJumpOptions)alpha.Options.Jumps.Methods[0]).SkipSnapshots, Is.EqualTo(0));
    }

    [Test]
    public void Resume_OnAPolicyWhoseCheckpointWasNotLoaded_WarnsOnce()
    {
        string folder = Temp["state"];
        using var run = new Lifecycle();
        using var policy = Lifecycle.NewPolicy();
        using (var alpha = AlphaRL.Accelerate(policy, Lifecycle.Options()))
        {
            for (int t = 1; t <= 7; t++) { run.Train(policy, t); alpha.Step(t); }
            alpha.Save(folder);
        }
        var loaded = new GuardAndTelemetryTests.ListLogger();
        using (AlphaRL.Resume(policy, folder, logger: loaded)) { }
        Assert.That(loaded.Entries.Count(e => e.Id == 15), Is.Zero, "the policy holds the saved step's weights");
        var fresh = new GuardAndTelemetryTests.ListLogger();
        using var other = Lifecycle.NewPolicy();
        using (AlphaRL.Resume(other, folder, logger: fresh)) { }
        Assert.That(fresh.Entries.Single(e => e.Id == 15).Message, Does.Contain("load the policy's checkpoint of that step"));
    }
}
