using System.Diagnostics.Metrics;
using AlphaRl.Tests.Support;
using AlphaRl.TorchSharp;
using AlphaRl.TorchSharp.Jumps;
using TorchSharp;
using static TorchSharp.torch;

namespace AlphaRl.Tests.Hooks;

/// <summary>
/// The jump methods, the guard over a grid of lengths, the repeated schedule and the diagnostics, on a real TorchSharp
/// module whose every trainable tensor follows a known path W(t) = W0 + a(t)·B1 + b(t)·B2.
/// </summary>
public class JumpMethodTests
{
    private sealed class Path
    {
        private readonly Dictionary<string, (Tensor W0, Tensor B1, Tensor B2)> _paths = new();
        private readonly nn.Module _policy;
        private readonly Func<double, (double A, double B)> _coefficients;

        /// <summary>B1, B2 rank-1 outer products when rankOne (only 2-D tensors move); otherwise dense Gaussian, full rank.</summary>
        public Path(nn.Module policy, Func<double, (double A, double B)> coefficients, bool rankOne, int seed, float scale = 0.01f)
        {
            _policy = policy;
            _coefficients = coefficients;
            var random = new Random(seed);
            using var scope = NewDisposeScope();
            foreach (var (name, p) in policy.named_parameters())
            {
                if (rankOne && p.dim() != 2) continue;
                Tensor Direction()
                {
                    if (rankOne)
                        return outer(tensor(Synthetic.UnitVector((int)p.shape[0], random)), tensor(Synthetic.UnitVector((int)p.shape[1], random))) * scale;
                    var values = new float[p.NumberOfElements];
                    for (int i = 0; i < values.Length; i++) values[i] = Synthetic.Gaussian(random) * scale;
                    return tensor(values, p.shape);
                }
                _paths[name] = (p.detach().to(ScalarType.Float32).clone().DetachFromDisposeScope(), Direction().DetachFromDisposeScope(), Direction().DetachFromDisposeScope());
            }
        }

        public IReadOnlyCollection<string> Names => _paths.Keys;

        public Tensor At(string name, double t)
        {
            var (w0, b1, b2) = _paths[name];
            var (a, b) = _coefficients(t);
            return w0 + b1 * (float)a + b2 * (float)b;
        }

        public void MoveTo(double t)
        {
            using var scope = NewDisposeScope();
            foreach (var (name, p) in _policy.named_parameters())
                if (_paths.ContainsKey(name)) Weights.Set(p, At(name, t).to(p.dtype));
        }

        /// <summary>‖W − W(t)‖ / ‖W(t) − W0‖ over <paramref name="names"/> (all moving tensors when null).</summary>
        public double RelativeDistanceTo(double t, IEnumerable<string>? names = null)
        {
            using var scope = NewDisposeScope();
            double err = 0, norm = 0;
            var live = _policy.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            foreach (var name in names ?? Names)
            {
                var target = At(name, t);
                err += Math.Pow((live[name].to(ScalarType.Float32) - target).norm().item<float>(), 2);
                norm += Math.Pow((target - _paths[name].W0).norm().item<float>(), 2);
            }
            return Math.Sqrt(err / norm);
        }
    }

    private static (double, double) Linear(double t) => (t, 0);

    private static AlphaRLOptions Repeated(params JumpMethodOptions[] methods)
    {
        // The grid these tests are built on (up to 3 windows ahead), not the library's default.
        var options = new AlphaRLOptions
        {
            Snapshots = { Interval = 10, Max = 4 },
            Attempts = { MinSnapshots = 4, Schedule = JumpSchedule.Repeated, MaxJumps = 1 },
            Jumps = { Lengths = [0, 0.5, 1, 1.5, 2, 3] },
        };
        foreach (var m in methods) options.Jumps.Methods.Add(m);
        return options;
    }

    /// <summary>Trains steps 1..<paramref name="steps"/> along the path (continuing from wherever kept jumps put the weights).</summary>
    private static StepOutcome Run(AlphaRLSession alpha, Path path, int steps, Func<double>? evaluate = null, int from = 1)
    {
        StepOutcome? outcome = null;
        for (int step = from; step <= steps; step++)
        {
            path.MoveTo(step + alpha.StepsSkipped);
            outcome = alpha.Step(step, evaluate);
        }
        return outcome!;
    }

    [Test]
    public void PathLinearInEveryWeight_VelocityLandsOnTheTrueWeights_AtTheTarget()
    {
        using var policy = new TinyPolicy(d: 16);
        var path = new Path(policy, Linear, rankOne: false, seed: 11);
        using var alpha = AlphaRL.Accelerate(policy, Repeated(new VelocityJumpOptions { IncludeUncovered = true }));

        var outcome = Run(alpha, path, 40);

        Assert.That(outcome.Action, Is.EqualTo(StepAction.JumpKept));
        Assert.That((outcome.Jump!.Method, outcome.Jump.Length, outcome.Jump.TargetStep), Is.EqualTo(("velocity", 3.0, 160L)), "unguarded: the largest length");
        Assert.That(path.RelativeDistanceTo(160), Is.LessThan(1e-4));
        Assert.That(outcome.Diagnostics!.VelocityCosine, Is.EqualTo(1).Within(1e-3));
        Assert.That(outcome.Diagnostics.StepNormTrend, Is.EqualTo(1).Within(0.05));
    }

    [Test]
    public void Velocity_SkippingTheWarmUpSnapshot_LandsOnTheLineThatFollowsIt()
    {
        // Fast for the first 10 steps (the warm-up), then one B per step: only snapshots 20, 30, 40 lie on the line.
        using var policy = new TinyPolicy(d: 16);
        var path = new Path(policy, t => (t <= 10 ? 5 * t : 50 + (t - 10), 0), rankOne: false, seed: 26);
        using var alpha = AlphaRL.Accelerate(policy, Repeated(new VelocityJumpOptions { IncludeUncovered = true, SkipSnapshots = 1 }));

        var outcome = Run(alpha, path, 40);

        Assert.That((outcome.Jump!.Kept, outcome.Jump.TargetStep), Is.EqualTo((true, 160L)));
        Assert.That(path.RelativeDistanceTo(160), Is.LessThan(1e-4));
    }

    [Test]
    public void PathLinearInEveryWeight_DirectionLandsOnTheTrueWeights_WhenTheWindowStartsAtTheSessionStart()
    {
        using var policy = new TinyPolicy(d: 16);
        var path = new Path(policy, Linear, rankOne: false, seed: 12);
        using var alpha = AlphaRL.Accelerate(policy, Repeated(new DirectionJumpOptions { IncludeUncovered = true }));

        var outcome = Run(alpha, path, 40);

        Assert.That((outcome.Jump!.Method, outcome.Jump.TargetStep, outcome.Jump.Kept), Is.EqualTo(("direction", 160L, true)));
        Assert.That(path.RelativeDistanceTo(160), Is.LessThan(1e-4));
    }

    [Test]
    public void RankOnePath_Rank1LineLandsOnTheTrueWeights_AtTheTarget()
    {
        using var policy = new TinyPolicy(d: 16);
        var path = new Path(policy, Linear, rankOne: true, seed: 13);
        using var alpha = AlphaRL.Accelerate(policy, Repeated(new Rank1LineJumpOptions()));

        var outcome = Run(alpha, path, 40);

        Assert.That((outcome.Jump!.Method, outcome.Jump.TargetStep, outcome.Jump.Kept), Is.EqualTo(("rank1", 160L, true)));
        Assert.That(path.RelativeDistanceTo(160, alpha.Covered), Is.LessThan(1e-3));
        Assert.That(outcome.Diagnostics!.Rank1EnergyShare, Is.EqualTo(1).Within(1e-3));
    }

    [Test]
    public void SlowingPath_TheGuardPicksAShortJumpOrNone_AndNeverEndsFurtherFromTheTrueContinuation()
    {
        // W(t) = W0 + sqrt(t) B: every extrapolation from the window overshoots; the score peaks at the true weights at step 60.
        using var policy = new TinyPolicy(d: 16);
        var path = new Path(policy, t => (Math.Sqrt(t), 0), rankOne: false, seed: 14);
        var options = Repeated(new VelocityJumpOptions { IncludeUncovered = true }, new DirectionJumpOptions { IncludeUncovered = true });
        using var alpha = AlphaRL.Accelerate(policy, options);
        double Score() => -path.RelativeDistanceTo(60);

        Run(alpha, path, 39, Score);
        path.MoveTo(40);
        double stopping = Score();
        var outcome = alpha.Step(40, Score);

        var jump = outcome.Jump!;
        Assert.That(jump.Candidates, Has.Count.EqualTo(10));
        Assert.That(!jump.Kept || jump.Length <= 0.5, Is.True, $"kept {jump.Method} j={jump.Length}");
        Assert.That(Score(), Is.GreaterThanOrEqualTo(stopping));
        Assert.That(outcome.Diagnostics!.StepNormTrend, Is.LessThan(0.8), "the path slows down");
    }

    [Test]
    public void TurningPath_WithSkipWhenBending_IsRefusedByTheDiagnostics_AndTheEvaluationIsNeverCalled()
    {
        // Along B1 up to step 20, then along B2: the window's second half points elsewhere than its first.
        using var policy = new TinyPolicy(d: 16);
        var path = new Path(policy, t => (Math.Min(t, 20), Math.Max(t - 20, 0)), rankOne: false, seed: 15);
        var options = Repeated(new VelocityJumpOptions());
        options.Attempts.SkipWhenBending = true;
        using var alpha = AlphaRL.Accelerate(policy, options);
        int calls = 0;

        Run(alpha, path, 39, () => ++calls);
        path.MoveTo(40);
        var before = Weights.Snapshot(policy);
        var outcome = alpha.Step(40, () => ++calls);

        Assert.That(outcome.Action, Is.EqualTo(StepAction.JumpSkipped));
        Assert.That(calls, Is.Zero);
        Assert.That(alpha.Evaluations, Is.Zero);
        Assert.That(outcome.Diagnostics!.VelocityCosine, Is.LessThan(0.5));
        Assert.That(alpha.Jumps, Is.Empty);
        Weights.AssertIdentical(policy, before);
    }

    private static AlphaRLOptions AllMethods(int minSnapshots = 4)
    {
        var options = Repeated(new VelocityJumpOptions { IncludeUncovered = true }, new DirectionJumpOptions { IncludeUncovered = true },
            new Rank1LineJumpOptions { Uncovered = UncoveredTensors.Extrapolate });
        options.Attempts.MinSnapshots = options.Snapshots.Max = minSnapshots;
        return options;
    }

    [Test]
    public void ManyCandidatesAllWorse_AreRejected_AndTheWeightsAreRestoredBitForBit()
    {
        using var policy = new TinyPolicy(d: 16, dtype: ScalarType.BFloat16);
        var path = new Path(policy, Linear, rankOne: false, seed: 16);
        using var alpha = AlphaRL.Accelerate(policy, AllMethods());
        int calls = 0;

        Run(alpha, path, 39);
        path.MoveTo(40);
        var before = Weights.Snapshot(policy);
        var outcome = alpha.Step(40, () => calls++ == 0 ? 1.0 : 0.5 - calls * 0.01);

        Assert.That(outcome.Action, Is.EqualTo(StepAction.JumpRejected));
        Assert.That(outcome.Jump!.Candidates, Has.Count.EqualTo(15));
        Assert.That(outcome.Jump.Evaluations, Is.EqualTo(16));
        Assert.That((outcome.Jump.Method, outcome.Jump.Length, outcome.Jump.ScoreAfter), Is.EqualTo(("velocity", 0.5, 0.48)), "the best candidate is reported");
        Assert.That(outcome.EffectiveStep, Is.EqualTo(40));
        Weights.AssertIdentical(policy, before);
    }

    [Test]
    public void EvaluationThatThrowsMidGrid_RestoresTheWeightsBitForBit_AndPropagates()
    {
        using var policy = new TinyPolicy(d: 16, dtype: ScalarType.BFloat16);
        var path = new Path(policy, Linear, rankOne: false, seed: 17);
        using var alpha = AlphaRL.Accelerate(policy, AllMethods());
        int calls = 0;

        Run(alpha, path, 39);
        path.MoveTo(40);
        var before = Weights.Snapshot(policy);

        Assert.That(() => alpha.Step(40, () => ++calls == 7 ? throw new InvalidOperationException("reward model down") : calls),
            Throws.InvalidOperationException.With.Message.EqualTo("reward model down"));
        Weights.AssertIdentical(policy, before);
    }

    [Test]
    public void CandidateThatOverflows_IsReportedNamingTheTensor_AndTheWeightsAreRestoredBitForBit()
    {
        // Half precision tops out at 65504: weights up to about 40,000 after 40 steps overflow one window length further.
        using var policy = new TinyPolicy(d: 8, dtype: ScalarType.Float16);
        var path = new Path(policy, Linear, rankOne: false, seed: 18, scale: 300f);
        using var alpha = AlphaRL.Accelerate(policy, AllMethods());

        Run(alpha, path, 39);
        path.MoveTo(40);
        var before = Weights.Snapshot(policy);

        Assert.That(() => alpha.Step(40, () => 1.0), Throws.TypeOf<AlphaRLException>().With.Message.Contains("overflows").And.Message.Contains("'"));
        Weights.AssertIdentical(policy, before);
    }

    [Test]
    public void EvaluationsPerAttempt_AreBoundedByMaxEvaluationsPerWindow_SmallestLengthsFirst()
    {
        using var policy = new TinyPolicy(d: 16);
        var path = new Path(policy, Linear, rankOne: false, seed: 19);
        var options = AllMethods(minSnapshots: 3);
        options.Jumps.MaxEvaluations = 4;
        options.Attempts.MaxJumps = 100;
        using var alpha = AlphaRL.Accelerate(policy, options);
        int calls = 0;

        Run(alpha, path, 90, () => -(++calls % 3));

        Assert.That(alpha.Jumps, Has.Count.EqualTo(3));
        Assert.That(alpha.Jumps.Select(j => j.Evaluations), Is.All.EqualTo(4));
        Assert.That(alpha.Jumps.SelectMany(j => j.Candidates).Select(c => c.Length), Is.All.EqualTo(0.5));
        Assert.That(alpha.Evaluations, Is.EqualTo(12).And.EqualTo(calls));
    }

    [Test]
    public void KeptCandidateThatWasNotTheLastTried_HoldsExactlyTheWeightsItsMethodWrites()
    {
        // The score peaks at the true weights one window length ahead, so the best of the grid (j = 1) is re-applied after the others.
        byte[][] Final(IList<double> lengths)
        {
            random.manual_seed(5);
            using var policy = new TinyPolicy(d: 16, dtype: ScalarType.BFloat16);
            var path = new Path(policy, Linear, rankOne: false, seed: 20);
            var options = Repeated(new VelocityJumpOptions { IncludeUncovered = true });
            options.Jumps.Lengths = lengths;
            using var alpha = AlphaRL.Accelerate(policy, options);
            var outcome = Run(alpha, path, 40, () => -path.RelativeDistanceTo(80));
            Assert.That((outcome.Jump!.Kept, outcome.Jump.Length), Is.EqualTo((true, 1.0)));
            return policy.named_parameters().Select(p => Synthetic.Bytes(p.parameter)).ToArray();
        }

        Assert.That(Final([0, 0.5, 1, 1.5, 2, 3]), Is.EqualTo(Final([1])));
    }

    [Test]
    public void RepeatedSchedule_JumpsBlockAfterBlock_FromTheStepEachJumpReached()
    {
        using var policy = new TinyPolicy(d: 16);
        var path = new Path(policy, Linear, rankOne: false, seed: 21);
        var options = Repeated(new VelocityJumpOptions { IncludeUncovered = true });
        options.Attempts.MaxJumps = 3;
        options.Jumps.Lengths = [0, 1];
        using var alpha = AlphaRL.Accelerate(policy, options);

        Run(alpha, path, 200, () => -path.RelativeDistanceTo(1000)); // farther along the line scores higher

        Assert.That(alpha.Jumps.Select(j => (j.FromStep, j.TargetStep, j.Kept)), Is.EqualTo(new[] { (40L, 80L, true), (120L, 160L, true), (200L, 240L, true) }));
        Assert.That(alpha.StepsSkipped, Is.EqualTo(120));
        Assert.That(path.RelativeDistanceTo(200 + 120), Is.LessThan(1e-4));
    }

    [Test]
    public void RepeatedVelocityJumps_ConfiguredAsTheBenchmarkDoes_KeepEveryJumpOnAStraightPath()
    {
        using var policy = new TinyPolicy(d: 16);
        var path = new Path(policy, Linear, rankOne: false, seed: 25);
        var options = new AlphaRLOptions {
            Snapshots = { Interval = 8, Max = 6 },
            Attempts = { MinSnapshots = 6, Schedule = JumpSchedule.Repeated, MaxJumps = 20 },
            Jumps = { Methods = { new VelocityJumpOptions { IncludeUncovered = true } }, Lengths = [0, 0.5, 1, 2, 3], MaxEvaluations = 6 },
};
        using var alpha = AlphaRL.Accelerate(policy, options);

        Run(alpha, path, 144, () => -path.RelativeDistanceTo(100_000));

        Assert.That(alpha.Methods, Is.EqualTo(new[] { "velocity" }));
        Assert.That(alpha.Jumps, Has.Count.EqualTo(3));
        Assert.That(alpha.Jumps.Select(j => (j.Kept, j.Method, j.Length, j.Evaluations)), Is.All.EqualTo((true, "velocity", 3.0, 5)));
        Assert.That(alpha.StepsSkipped, Is.EqualTo(3 * 3 * 48));
        Assert.That(path.RelativeDistanceTo(144 + alpha.StepsSkipped), Is.LessThan(1e-4));
    }

    [Test]
    public void RepeatedSchedule_WithMaxJumpsZero_OnlyTracks()
    {
        using var policy = new TinyPolicy(d: 8);
        var path = new Path(policy, Linear, rankOne: false, seed: 22);
        var options = Repeated();
        options.Attempts.MaxJumps = 0;
        using var alpha = AlphaRL.Accelerate(policy, options);
        int calls = 0;

        var outcome = Run(alpha, path, 80, () => ++calls);

        Assert.That((calls, alpha.Jumps.Count, outcome.Action), Is.EqualTo((0, 0, StepAction.Snapshot)));
        Assert.That(outcome.Diagnostics, Is.Not.Null);
    }

    [Test]
    public void DefaultMethod_IsVelocity_AndThePaperPresetIsTheRank1Line()
    {
        using var policy = new TinyPolicy(d: 8);
        using (var alpha = AlphaRL.Accelerate(policy)) Assert.That(alpha.Methods, Is.EqualTo(new[] { "velocity" }));
        using (var paper = AlphaRL.Accelerate(policy, AlphaRLOptions.Paper())) Assert.That(paper.Methods, Is.EqualTo(new[] { "rank1" }));
        Assert.That(AlphaRLOptions.Paper(2.5).Jumps.Lengths, Is.EqualTo(new[] { 0, 1.5 }));
    }

    [Test]
    public void Metrics_OnTheAlphaRLMeter_CountEvaluationsJumpsAndStepsSkipped()
    {
        var totals = new Dictionary<string, double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) => { if (instrument.Meter.Name == "AlphaRL") l.EnableMeasurementEvents(instrument); };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => { lock (totals) totals[instrument.Name] = totals.GetValueOrDefault(instrument.Name) + value; });
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => { lock (totals) totals[instrument.Name] = value; });
        listener.Start();
        using var policy = new TinyPolicy(d: 16);
        var path = new Path(policy, Linear, rankOne: false, seed: 24);
        using var alpha = AlphaRL.Accelerate(policy, Repeated(new VelocityJumpOptions()));

        Run(alpha, path, 40, () => -path.RelativeDistanceTo(1000, alpha.Covered));

        Assert.That(alpha.JumpsKept, Is.EqualTo(1));
        Assert.That(totals["alpharl.evaluations"], Is.EqualTo(alpha.Evaluations).And.EqualTo(6));
        Assert.That((totals["alpharl.jumps.tried"], totals["alpharl.jumps.kept"]), Is.EqualTo((1.0, 1.0)));
        Assert.That(totals["alpharl.steps.skipped"], Is.EqualTo(alpha.StepsSkipped).And.EqualTo(120));
        Assert.That(totals["alpharl.path.velocity_cosine"], Is.EqualTo(1).Within(1e-3));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void NativeMemory_StaysFlat_OverALongRunWithEveryMethod(bool velocityStateOnCpu)
    {
        // One intra-op thread: on a shared machine, libtorch's thread pool makes these small ops many times slower.
        int threads = get_num_threads();
        set_num_threads(1);
        try
        {
            LongRunWithEveryMethod(velocityStateOnCpu);
        }
        finally
        {
            set_num_threads(threads);
        }
    }

    private static void LongRunWithEveryMethod(bool velocityStateOnCpu)
    {
        // Large uncovered tensors (embeddings, head: 128k floats each): every method copies or backs them up.
        using var policy = new TinyPolicy(d: 32, layerCount: 1, vocab: 4096);
        var options = AllMethods(minSnapshots: 3);
        // With the velocity's sums on the CPU, each snapshot's copies are folded on a worker thread: the live count
        // below is this thread's, so a copy the worker failed to free shows only in the resident set.
        options.Jumps.Methods.OfType<VelocityJumpOptions>().Single().StateOnCpu = velocityStateOnCpu;
        options.Snapshots.Interval = 1;
        options.Attempts.MaxJumps = int.MaxValue;
        options.Jumps.MaxEvaluations = 4;
        using var alpha = AlphaRL.Accelerate(policy, options);
        using var outer = NewDisposeScope();
        var random = new Random(23);
        int step = 0;

        void Run(int count)
        {
            for (int i = 0; i < count; i++)
            {
                using (var scope = NewDisposeScope())
                using (no_grad())
                    foreach (var p in policy.parameters()) p.add_(randn(p.shape) * 1e-3f + 1e-3f);
                alpha.Step(++step, () => random.NextDouble());
            }
        }

        long Resident()
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return Weights.ResidentBytes();
        }
        long Live() => global::TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        // As in the tracker's memory test, two equal halves after a warm-up. The exact figure is the count of live native
        // tensors this thread created: a leaked backup or copy at any attempt makes it grow. The resident set is only a
        // coarse bound here: with tensors of 512 KiB the allocator's own swings reach tens of MiB on a shared machine,
        // while a leaked backup of this policy (~270k floats) at every third step would add about 40 MiB per half and a
        // leaked snapshot-sized buffer per step far more.
        Run(30);
        long start = Resident();
        int scopedBefore = outer.DisposablesCount;
        Run(120);
        long middle = Resident();
        long liveMiddle = Live(), bytesMiddle = alpha.MemoryBytes;
        Run(120);
        long growth = Resident() - middle;

        Assert.That(alpha.JumpsKept, Is.GreaterThan(5), "jumps were kept as well as rejected");
        Assert.That(alpha.Jumps.Count(j => !j.Kept), Is.GreaterThan(5));
        Assert.That(Live() - liveMiddle, Is.Zero, "live native tensors after the second 120 steps");
        Assert.That(alpha.MemoryBytes, Is.EqualTo(bytesMiddle), "the session's own state, at the same point of a window");
        Assert.That(outer.DisposablesCount, Is.EqualTo(scopedBefore), "no tensor may leak into the caller's dispose scope");
        Assert.That(growth, Is.LessThan(128L << 20),
            $"RSS grew by {growth >> 20} MiB over the second 120 steps ({(middle - start) >> 20} MiB over the first)");
    }
}
