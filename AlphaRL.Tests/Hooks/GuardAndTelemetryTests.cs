using System.Diagnostics;
using System.Diagnostics.Metrics;
using AlphaRl.Tests.Support;
using AlphaRl.TorchSharp;
using AlphaRl.TorchSharp.Jumps;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using static TorchSharp.torch;

namespace AlphaRl.Tests.Hooks;

/// <summary>The guard's context and noise rule, the Jumped handler's errors, the missed-snapshot warning, metrics, spans and named DI options.</summary>
public class GuardAndTelemetryTests
{
    /// <summary>One velocity candidate (j = 1) at the window's end, step 20.</summary>
    private static AlphaRLOptions OneCandidate(double z = 0, params double[] lengths) => new()
    {
        Snapshots = { Interval = 5 },
        Attempts = { MinSnapshots = 4, Schedule = JumpSchedule.Repeated, MaxJumps = 1 },
        Jumps = { Lengths = lengths.Length > 0 ? lengths : [0, 1], Methods = [new VelocityJumpOptions()] },
        Guard = { NoiseZ = z },
    };

    [Test]
    public void Evaluation_IsToldWhatItScores()
    {
        using var run = new Lifecycle();
        using var policy = Lifecycle.NewPolicy();
        using var alpha = AlphaRL.Accelerate(policy, OneCandidate(0, 0, 1, 2));
        var seen = new List<GuardContext>();
        StepOutcome outcome = null!;
        for (int t = 1; t <= 20; t++)
        {
            run.Train(policy, t);
            outcome = alpha.Step(t, c => { seen.Add(c); return run.Score(policy); });
        }
        Assert.That(seen, Is.EqualTo(new[]
        {
            new GuardContext(20, 20, GuardPhase.Before, 20, null, 0, -1, 2),
            new GuardContext(20, 20, GuardPhase.After, 40, "velocity", 1, 0, 2),
            new GuardContext(20, 20, GuardPhase.After, 60, "velocity", 2, 1, 2),
        }));
        Assert.That(outcome.Action, Is.EqualTo(StepAction.JumpKept));
    }

    [Test]
    public void ScoreTheLoopAlreadyHas_IsUsedForWe_InsteadOfAnEvaluation()
    {
        using var run = new Lifecycle();
        using var policy = Lifecycle.NewPolicy();
        using var alpha = AlphaRL.Accelerate(policy, OneCandidate());
        var phases = new List<GuardPhase>();
        StepOutcome outcome = null!;
        for (int t = 1; t <= 20; t++)
        {
            run.Train(policy, t);
            outcome = alpha.Step(t, c => { phases.Add(c.Phase); return run.Score(policy); }, current: new GuardScore(-5, 0.1));
        }
        Assert.That(phases, Is.EqualTo(new[] { GuardPhase.After }));
        Assert.That(alpha.Evaluations, Is.EqualTo(1));
        Assert.That(outcome.Jump!.ScoreBefore, Is.EqualTo(-5));
        Assert.That(outcome.Jump.StandardErrorBefore, Is.EqualTo(0.1));
        Assert.That(outcome.Jump.ScoreBeforeGiven, Is.True);
    }

    [TestCase(0.0, StepAction.JumpRejected)]
    [TestCase(1.64, StepAction.JumpKept)]
    public void NoisyScores_AJumpWorseOnlyWithinNoise_IsKeptWhenZAllowsIt(double z, StepAction expected)
    {
        using var run = new Lifecycle();
        using var policy = Lifecycle.NewPolicy();
        using var alpha = AlphaRL.Accelerate(policy, OneCandidate(z));
        Dictionary<string, byte[]> before = null!;
        StepOutcome outcome = null!;
        for (int t = 1; t <= 20; t++)
        {
            run.Train(policy, t);
            if (t == 20) before = Weights.Snapshot(policy);
            // 0.45 vs 0.50, each ± 0.05: a drop of 0.71 standard errors of the difference.
            outcome = alpha.Step(t, c => c.Phase == GuardPhase.Before ? new GuardScore(0.50, 0.05) : new GuardScore(0.45, 0.05));
        }
        Assert.That(outcome.Action, Is.EqualTo(expected));
        Assert.That(outcome.Jump!.Candidates[0].StandardError, Is.EqualTo(0.05));
        if (expected == StepAction.JumpRejected) Weights.AssertIdentical(policy, before);
    }

    [Test]
    public void NoWorse_FollowsTheDocumentedRule()
    {
        Assert.That(GuardScore.NoWorse(new(0.5, 0.03), new(0.5 - 0.01 - 1.0 * 0.05, 0.04), tolerance: 0.01, z: 1), Is.True, "exactly on the margin");
        Assert.That(GuardScore.NoWorse(new(0.5, 0.03), new(0.5 - 0.01 - 1.0 * 0.05 - 1e-9, 0.04), tolerance: 0.01, z: 1), Is.False);
        Assert.That(GuardScore.NoWorse(new(0.5, 0.03), new(0.49, 0.04), tolerance: 0, z: 0), Is.False, "z = 0 ignores the errors");
        Assert.That(GuardScore.NoWorse(new(0.5), new(double.NaN), tolerance: 1, z: 3), Is.False);
        var s = GuardScore.FromSamples([1, 2, 3, 4]);
        Assert.That(s.Mean, Is.EqualTo(2.5));
        Assert.That(s.StandardError, Is.EqualTo(Math.Sqrt(5.0 / 3 / 4)).Within(1e-12));
        Assert.Throws<ArgumentException>(() => GuardScore.FromSamples([1]));
    }

    [Test]
    public void SeveralCandidates_TheHighestMeanIsChosen_AndJudgedByTheSameRule()
    {
        using var run = new Lifecycle();
        using var policy = Lifecycle.NewPolicy();
        using var alpha = AlphaRL.Accelerate(policy, OneCandidate(2, 0, 1, 2));
        StepOutcome outcome = null!;
        for (int t = 1; t <= 20; t++)
        {
            run.Train(policy, t);
            outcome = alpha.Step(t, c => c.Phase == GuardPhase.Before ? new GuardScore(0.50, 0.01) : c.Length == 1 ? new GuardScore(0.47, 0.01) : new GuardScore(0.48, 0.01));
        }
        // 0.48 (j = 2) is the best; it is 0.02 below W_e, within 2 × √2 × 0.01 = 0.028: kept.
        Assert.That(outcome.Action, Is.EqualTo(StepAction.JumpKept));
        Assert.That(outcome.Jump!.Length, Is.EqualTo(2));
        Assert.That(outcome.EffectiveStep, Is.EqualTo(60));
    }

    [Test]
    public void StandardErrorThatIsNotFinite_FailsNamingIt_AndRestoresTheWeights()
    {
        using var run = new Lifecycle();
        using var policy = Lifecycle.NewPolicy();
        using var alpha = AlphaRL.Accelerate(policy, OneCandidate());
        for (int t = 1; t < 20; t++) { run.Train(policy, t); alpha.Step(t); }
        run.Train(policy, 20);
        var before = Weights.Snapshot(policy);
        var e = Assert.Throws<AlphaRLException>(() => alpha.Step(20, c => c.Phase == GuardPhase.Before ? 0.5 : new GuardScore(0.6, double.NaN)));
        Assert.That(e!.Message, Does.Contain("StandardError = NaN").And.Contain("velocity j=1"));
        Weights.AssertIdentical(policy, before);
    }

    [Test]
    public void PlainFuncOfDouble_StillGuards()
    {
        using var run = new Lifecycle();
        using var policy = Lifecycle.NewPolicy();
        using var alpha = AlphaRL.Accelerate(policy, OneCandidate());
        StepOutcome outcome = null!;
        for (int t = 1; t <= 20; t++) { run.Train(policy, t); outcome = alpha.Step(t, () => run.Score(policy)); }
        Assert.That(outcome.Action, Is.EqualTo(StepAction.JumpKept));
        Assert.That(outcome.Jump!.Evaluations, Is.EqualTo(2));
    }

    [Test]
    public void JumpedHandlerThatThrows_LeavesTheJumpDoneAndRecorded_AndIsWrappedWithTheOutcome()
    {
        using var run = new Lifecycle();
        using var policy = Lifecycle.NewPolicy();
        using var reference = Lifecycle.NewPolicy();
        using var alpha = AlphaRL.Accelerate(policy, OneCandidate());
        using var plain = AlphaRL.Accelerate(reference, OneCandidate());
        alpha.Jumped += (_, _) => throw new InvalidOperationException("optimizer factory failed");
        for (int t = 1; t < 20; t++)
        {
            run.Train(policy, t); alpha.Step(t);
            run.Train(reference, t); plain.Step(t);
        }
        run.Train(policy, 20);
        run.Train(reference, 20);
        plain.Step(20, () => run.Score(reference));
        var e = Assert.Throws<JumpedHandlerException>(() => alpha.Step(20, () => run.Score(policy)));
        Assert.That(e!.InnerException!.Message, Is.EqualTo("optimizer factory failed"));
        Assert.That(e.Outcome.Action, Is.EqualTo(StepAction.JumpKept));
        Assert.That(alpha.JumpsKept, Is.EqualTo(1));
        Assert.That(alpha.StepsSkipped, Is.EqualTo(20));
        Weights.AssertIdentical(policy, Weights.Snapshot(reference));
        Assert.DoesNotThrow(() => alpha.Step(21));
    }

    [Test]
    public void StepCallsThatNeverLandOnASnapshotStep_AreWarnedAboutOnce()
    {
        var logger = new ListLogger();
        using var policy = Lifecycle.NewPolicy();
        using (var alpha = AlphaRL.Accelerate(policy, new AlphaRLOptions { Snapshots = { Interval = 10 } }, logger))
            for (long step = 5; step <= 95; step += 10) Assert.That(alpha.Step(step).Action, Is.EqualTo(StepAction.None));
        Assert.That(logger.Entries.Count(e => e.Id == 11), Is.EqualTo(1));
        Assert.That(logger.Entries.Single(e => e.Id == 11).Message, Does.Contain("snapshot step 10"));

        var quiet = new ListLogger();
        using (var alpha = AlphaRL.Accelerate(policy, new AlphaRLOptions { Snapshots = { Interval = 10 } }, quiet))
            for (long step = 10; step <= 90; step += 10) alpha.Step(step);
        Assert.That(quiet.Entries.Count(e => e.Id == 11), Is.Zero, "calls every 10 steps land on every snapshot step");
    }

    [Test]
    public void Metrics_AndSpans_CountSnapshotsJumpsAndSkippedSteps()
    {
        string name = "metrics-" + Guid.NewGuid().ToString("N");
        var measurements = new List<(string Instrument, double Value)>();
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, l) => { if (instrument.Meter.Name == AlphaRLTelemetry.Name) l.EnableMeasurementEvents(instrument); };
        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var tag in tags)
                if (tag.Key == "alpharl.session" && (string?)tag.Value == name)
                    lock (measurements) measurements.Add((instrument.Name, value));
        }
        meters.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        meters.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        meters.Start();
        var spans = new List<Activity>();
        using var activities = new ActivityListener
        {
            ShouldListenTo = s => s.Name == AlphaRLTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => { if ((string?)a.GetTagItem("alpharl.session") == name) lock (spans) spans.Add(a); },
        };
        ActivitySource.AddActivityListener(activities);

        using var run = new Lifecycle();
        using var policy = Lifecycle.NewPolicy();
        using var alpha = new AlphaRLSession(policy, Lifecycle.Options(), null, name);
        for (int t = 1; t <= 60; t++) { run.Train(policy, t); alpha.Step(t, c => c.Phase == GuardPhase.After && c.Step == 40 ? -1e9 : run.Score(policy)); }

        double Sum(string instrument) => measurements.Where(m => m.Instrument == instrument).Sum(m => m.Value);
        Assert.That(Sum("alpharl.snapshots"), Is.EqualTo(12));
        Assert.That(Sum("alpharl.jumps.tried"), Is.EqualTo(3));
        Assert.That(Sum("alpharl.jumps.kept"), Is.EqualTo(2));
        Assert.That(Sum("alpharl.jumps.rejected"), Is.EqualTo(1));
        Assert.That(Sum("alpharl.steps.skipped"), Is.EqualTo(alpha.StepsSkipped).And.GreaterThan(0));
        Assert.That(Sum("alpharl.evaluations"), Is.EqualTo(alpha.Evaluations));
        Assert.That(Sum("alpharl.overhead"), Is.GreaterThan(0).And.LessThanOrEqualTo(alpha.OverheadTime.TotalSeconds + 1e-9));
        Assert.That(spans.Count(s => s.OperationName == "alpharl.snapshot"), Is.EqualTo(12));
        var jumps = spans.Where(s => s.OperationName == "alpharl.jump").ToList();
        Assert.That(jumps.Select(s => (bool?)s.GetTagItem("alpharl.kept")), Is.EqualTo(new bool?[] { true, false, true }));
        Assert.That(jumps.Select(s => (long?)s.GetTagItem("alpharl.target_step")), Is.EqualTo(alpha.Jumps.Select(j => (long?)j.TargetStep)));
    }

    [Test]
    public void NamedOptions_GiveEachSessionItsOwnSettings_AndTheMeterFactoryIsUsed()
    {
        using var meterFactory = new TestMeterFactory();
        using var provider = new ServiceCollection()
            .AddSingleton<IMeterFactory>(meterFactory)
            .AddAlphaRL("actor", o => { o.Snapshots.Interval = 5; o.Attempts.MaxJumps = 3; })
            .AddAlphaRL("critic", o => { o.Snapshots.Interval = 20; o.Attempts.MaxJumps = 0; })
            .BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        var factory = provider.GetRequiredService<IAlphaRLFactory>();
        using var actorPolicy = Lifecycle.NewPolicy();
        using var criticPolicy = Lifecycle.NewPolicy();
        using var actor = factory.Accelerate(actorPolicy, "actor");
        using var critic = factory.Accelerate(criticPolicy, "critic");
        Assert.That((actor.Name, actor.Options.Snapshots.Interval, actor.Options.Attempts.MaxJumps), Is.EqualTo(("actor", 5, 3)));
        Assert.That((critic.Name, critic.Options.Snapshots.Interval, critic.Options.Attempts.MaxJumps), Is.EqualTo(("critic", 20, 0)));
        Assert.That(meterFactory.Created, Is.EqualTo(2), "one meter per session, from the container's factory");

        // Resume through the factory with the named options; the other name's options do not match the saved state.
        string folder = Path.Combine(Path.GetTempPath(), "alpharl-tests-" + Guid.NewGuid().ToString("N"));
        try
        {
            actor.Step(5);
            actor.Save(folder);
            using (var resumed = factory.Resume(actorPolicy, folder, "actor"))
                Assert.That((resumed.Name, resumed.LastStep, resumed.Options.Snapshots.Interval), Is.EqualTo(("actor", 5L, 5)));
            var e2 = Assert.Throws<AlphaRLException>(() => factory.Resume(actorPolicy, folder, "critic"));
            Assert.That(e2!.Message, Does.Contain("AlphaRLOptions.Snapshots.Interval is 5 in the saved state and 20 in the options given"));

            // A name never registered (a typo) is an error naming it and the registered ones, not the defaults.
            var typo = Assert.Throws<AlphaRLException>(() => factory.Accelerate(criticPolicy, "critc"));
            Assert.That(typo!.Message, Does.Contain("\"critc\"").And.Contain("\"actor\", \"critic\""));
            typo = Assert.Throws<AlphaRLException>(() => factory.Resume(actorPolicy, folder, "actr"));
            Assert.That(typo!.Message, Does.Contain("\"actr\""));
            Assert.Throws<AlphaRLException>(() => factory.Accelerate(criticPolicy), "the default name was not registered either");
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }

        using var bad = new ServiceCollection().AddAlphaRL("actor").AddAlphaRL("critic", o => o.Snapshots.Interval = 0).BuildServiceProvider();
        var e = Assert.Throws<OptionsValidationException>(() => bad.GetRequiredService<IStartupValidator>().Validate());
        Assert.That(e!.Message, Does.Contain("AlphaRLOptions.Snapshots.Interval = 0"));
    }

    private sealed class TestMeterFactory : IMeterFactory
    {
        private readonly List<Meter> _meters = new();
        public int Created => _meters.Count;

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options);
            _meters.Add(meter);
            return meter;
        }

        public void Dispose()
        {
            foreach (var m in _meters) m.Dispose();
        }
    }

    internal sealed class ListLogger : ILogger
    {
        public List<(int Id, LogLevel Level, string Message)> Entries { get; } = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add((eventId.Id, logLevel, formatter(state, exception)));
    }
}
