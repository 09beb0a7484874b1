using AlphaRl.Tests.Support;
using AlphaRl.TorchSharp;
using AlphaRl.TorchSharp.Jumps;
using TorchSharp;
using static TorchSharp.torch;

namespace AlphaRl.Tests.Hooks;

/// <summary>
/// A fake optimizer drives a real TorchSharp module: every covered matrix follows a known path W(t) = W0 + f(t),
/// so the weights the session jumps to can be compared with where the path really goes.
/// </summary>
public class AlphaRLSessionTests
{
    private sealed class PathDriver
    {
        private readonly Dictionary<string, (Tensor W0, Tensor B, Tensor C)> _paths = new();
        private readonly TinyPolicy _policy;

        /// <summary>Rank-1 linear path B·t, plus a curved part C·t² when <paramref name="curvature"/> is not 0.</summary>
        public PathDriver(TinyPolicy policy, float curvature, int seed)
        {
            _policy = policy;
            var random = new Random(seed);
            foreach (var (name, p) in policy.named_parameters())
            {
                if (p.dim() != 2) continue;
                int rows = (int)p.shape[0], cols = (int)p.shape[1];
                var b = outer(tensor(Synthetic.UnitVector(rows, random)), tensor(Synthetic.UnitVector(cols, random))) * 0.01f;
                var c = outer(tensor(Synthetic.UnitVector(rows, random)), tensor(Synthetic.UnitVector(cols, random))) * (0.01f * curvature);
                _paths[name] = (p.detach().to(ScalarType.Float32).clone().DetachFromDisposeScope(), b.DetachFromDisposeScope(), c.DetachFromDisposeScope());
            }
        }

        public Tensor At(string name, double t)
        {
            var (w0, b, c) = _paths[name];
            return w0 + b * (float)t + c * (float)(t * t);
        }

        public void MoveTo(double t)
        {
            using var scope = NewDisposeScope();
            foreach (var (name, p) in _policy.named_parameters())
                if (_paths.ContainsKey(name)) Weights.Set(p, At(name, t).to(p.dtype));
        }

        /// <summary>‖W − W(t)‖ / ‖W(t) − W0‖ over all covered matrices.</summary>
        public double RelativeDistanceTo(double t, IEnumerable<string> covered)
        {
            using var scope = NewDisposeScope();
            double err = 0, norm = 0;
            var live = _policy.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            foreach (var name in covered)
            {
                var target = At(name, t);
                err += Math.Pow((live[name].to(ScalarType.Float32) - target).norm().item<float>(), 2);
                norm += Math.Pow((target - _paths[name].W0).norm().item<float>(), 2);
            }
            return Math.Sqrt(err / norm);
        }
    }

    /// <summary>The paper's single rank-1 jump to window start + 3 × window length.</summary>
    private static AlphaRLOptions Options()
    {
        var options = AlphaRLOptions.Paper(targetMultiple: 3);
        options.Snapshots.Interval = 10;
        options.Attempts.MinSnapshots = 4;
        return options;
    }

    [Test]
    public void RankOneLinearPath_FitsJumpsAndLandsWithinOnePercentOfTheTrueWeights()
    {
        using var policy = new TinyPolicy(d: 16);
        var path = new PathDriver(policy, curvature: 0, seed: 1);
        using var alpha = AlphaRL.Accelerate(policy, Options());
        StepOutcome? outcome = null;
        for (int step = 1; step <= 40; step++)
        {
            path.MoveTo(step);
            outcome = alpha.Step(step);
        }

        Assert.That(outcome!.Action, Is.EqualTo(StepAction.JumpKept));
        Assert.That(outcome.Jump!.Guarded, Is.False);
        Assert.That(outcome.Jump.TargetStep, Is.EqualTo(120));
        Assert.That(outcome.EffectiveStep, Is.EqualTo(120));
        Assert.That(path.RelativeDistanceTo(120, alpha.Covered), Is.LessThan(0.01));
    }

    [Test]
    public void CurvedPath_DoesNotJump_AndWeightsStayExactlyWhereTrainingPutThem()
    {
        using var policy = new TinyPolicy(d: 16);
        var path = new PathDriver(policy, curvature: 0.2f, seed: 2);
        using var alpha = AlphaRL.Accelerate(policy, Options());
        for (int step = 1; step <= 80; step++)
        {
            path.MoveTo(step);
            var before = Weights.Snapshot(policy);
            var outcome = alpha.Step(step);
            Assert.That(outcome.Action, Is.Not.EqualTo(StepAction.JumpKept), $"step {step}");
            if (outcome.Fit is not null) Assert.That(outcome.Fit.RelativeError, Is.GreaterThan(Options().Attempts.FitThreshold));
            Weights.AssertIdentical(policy, before);
        }
        Assert.That(alpha.Jumps, Is.Empty);
    }

    [Test]
    public void GuardRejection_RestoresTheWeightsBitForBit()
    {
        using var policy = new TinyPolicy(d: 16, dtype: ScalarType.BFloat16);
        var path = new PathDriver(policy, curvature: 0, seed: 3);
        using var alpha = AlphaRL.Accelerate(policy, Options());
        var scores = new Queue<double>([0.8, 0.5]);
        JumpOutcome? raised = null;
        alpha.Jumped += (_, j) => raised = j;
        for (int step = 1; step < 40; step++)
        {
            path.MoveTo(step);
            alpha.Step(step, () => scores.Dequeue());
        }
        path.MoveTo(40);
        var before = Weights.Snapshot(policy);

        var outcome = alpha.Step(40, () => scores.Dequeue());

        Assert.That(outcome.Action, Is.EqualTo(StepAction.JumpRejected));
        Assert.That(outcome.Jump, Is.SameAs(raised));
        Assert.That(outcome.Jump!.ScoreBefore, Is.EqualTo(0.8));
        Assert.That(outcome.Jump.ScoreAfter, Is.EqualTo(0.5));
        Assert.That(outcome.EffectiveStep, Is.EqualTo(40));
        Weights.AssertIdentical(policy, before);
    }

    [Test]
    public void GuardAcceptance_KeepsThePredictedWeights()
    {
        using var policy = new TinyPolicy(d: 16);
        var path = new PathDriver(policy, curvature: 0, seed: 4);
        using var alpha = AlphaRL.Accelerate(policy, Options());
        StepOutcome? outcome = null;
        for (int step = 1; step <= 40; step++)
        {
            path.MoveTo(step);
            // Scores the weights by closeness to where training would be at step 120: the jump should look better.
            outcome = alpha.Step(step, () => -path.RelativeDistanceTo(120, alpha.Covered));
        }

        Assert.That(outcome!.Action, Is.EqualTo(StepAction.JumpKept));
        Assert.That(outcome.Jump!.Guarded, Is.True);
        Assert.That(outcome.Jump.ScoreAfter, Is.GreaterThan(outcome.Jump.ScoreBefore!.Value));
        Assert.That(path.RelativeDistanceTo(120, alpha.Covered), Is.LessThan(0.01));
    }

    [Test]
    public void EvaluationThatThrows_RestoresTheWeights_AndPropagates()
    {
        using var policy = new TinyPolicy(d: 16);
        var path = new PathDriver(policy, curvature: 0, seed: 5);
        using var alpha = AlphaRL.Accelerate(policy, Options());
        int calls = 0;
        for (int step = 1; step < 40; step++)
        {
            path.MoveTo(step);
            alpha.Step(step);
        }
        path.MoveTo(40);
        var before = Weights.Snapshot(policy);

        Assert.That(() => alpha.Step(40, () => ++calls == 2 ? throw new InvalidOperationException("reward model down") : 1.0),
            Throws.InvalidOperationException.With.Message.EqualTo("reward model down"));
        Weights.AssertIdentical(policy, before);
    }

    [Test]
    public void RepeatedJumps_FollowTheLineWindowAfterWindow()
    {
        using var policy = new TinyPolicy(d: 16);
        var path = new PathDriver(policy, curvature: 0, seed: 6);
        var options = Options();
        options.Attempts.MaxJumps = 2;
        using var alpha = AlphaRL.Accelerate(policy, options);
        var kept = new List<JumpOutcome>();
        alpha.Jumped += (_, j) => kept.Add(j);
        for (int step = 1; step <= 100; step++)
        {
            path.MoveTo(step + alpha.StepsSkipped); // the optimizer continues from wherever the weights stand
            alpha.Step(step);
        }

        Assert.That(kept.Select(j => (j.FromStep, j.TargetStep, j.Kept)), Is.EqualTo(new[] { (40L, 120L, true), (160L, 240L, true) }));
        Assert.That(alpha.StepsSkipped, Is.EqualTo(160));
        Assert.That(path.RelativeDistanceTo(100 + 160, alpha.Covered), Is.LessThan(0.01));
    }

    [Test]
    public void ModuleConvertedToAnotherDtype_IsReported_NamingAParameter()
    {
        using var policy = new TinyPolicy(d: 8);
        using var alpha = AlphaRL.Accelerate(policy, Options());
        policy.to(ScalarType.Float64);
        Assert.That(() => alpha.Step(10), Throws.TypeOf<AlphaRLException>()
            .With.Message.Contains("changed dtype").And.Message.Contains("layers.0.q_proj.weight"));
    }

    [Test]
    public void Steps_MustIncrease()
    {
        using var policy = new TinyPolicy(d: 8);
        using var alpha = AlphaRL.Accelerate(policy);
        alpha.Step(1);
        Assert.That(() => alpha.Step(1), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("follows step 1"));
    }

    [Test]
    public void DefaultSelection_OnTheTinyPolicy_CoversAttentionAndMlpWeightsOnly()
    {
        using var policy = new TinyPolicy(d: 8, layerCount: 2);
        using var alpha = AlphaRL.Accelerate(policy);

        var expected = Enumerable.Range(0, 2).SelectMany(i => new[] { "q_proj", "k_proj", "v_proj", "o_proj", "up_proj", "down_proj" }
            .Select(n => $"layers.{i}.{n}.weight"));
        Assert.That(alpha.Covered, Is.EquivalentTo(expected));
        var reasons = alpha.Coverage.Excluded.ToDictionary(e => e.Name, e => e.Reason);
        Assert.That(reasons["tok_embeddings.weight"], Is.EqualTo("embedding"));
        Assert.That(reasons["lm_head.weight"], Is.EqualTo("output head"));
        Assert.That(reasons["layers.0.o_proj.bias"], Does.StartWith("not 2-D"));
        Assert.That(reasons["norm.weight"], Does.StartWith("not 2-D"));
    }

    [Test]
    public void DefaultSelection_OnTorchSharpsOwnTransformer_PicksAttentionAndFeedForwardMatrices()
    {
        using var model = new EncoderPolicy();
        using var alpha = AlphaRL.Accelerate(model);

        var expected = Enumerable.Range(0, 2).SelectMany(i => new[] { "self_attn.in_proj_weight", "self_attn.out_proj.weight", "linear1.weight", "linear2.weight" }
            .Select(n => $"encoder.layers.{i}.{n}"));
        Assert.That(alpha.Covered, Is.EquivalentTo(expected), string.Join(", ", model.named_parameters().Select(p => p.name)));
    }

    [Test]
    public void IncludeAndExcludePatterns_AndPredicate_OverrideTheDefault()
    {
        using var policy = new TinyPolicy(d: 8, layerCount: 2);
        using (var onlyMlp = AlphaRL.Accelerate(policy, o => { o.Coverage.Include = ["_proj"]; o.Coverage.Exclude = [@"\.(q|k|v|o)_proj"]; }))
            Assert.That(onlyMlp.Covered, Is.EquivalentTo(new[] { "layers.0.up_proj.weight", "layers.0.down_proj.weight", "layers.1.up_proj.weight", "layers.1.down_proj.weight" }));
        using (var head = AlphaRL.Accelerate(policy, null, new SessionServices { Cover = (name, _) => name == "lm_head.weight" }))
            Assert.That(head.Covered, Is.EqualTo(new[] { "lm_head.weight" }));
        Assert.That(() => AlphaRL.Accelerate(policy, o => o.Coverage.Include = ["nothing-matches"]),
            Throws.TypeOf<AlphaRLException>().With.Message.Contains("no parameter to cover"));
    }

    [Test]
    public void Dispose_FreesBaseWeights()
    {
        using var policy = new TinyPolicy(d: 8);
        var alpha = AlphaRL.Accelerate(policy);
        Assert.That(alpha.MemoryBytes, Is.GreaterThan(0));
        alpha.Dispose();
        Assert.That(alpha.MemoryBytes, Is.Zero);
        Assert.That(() => alpha.Step(1), Throws.TypeOf<ObjectDisposedException>());
    }

    [TestCase(UncoveredTensors.Keep)]
    [TestCase(UncoveredTensors.Extrapolate)]
    public void UncoveredTensors_KeepWe_OrFollowAPlainLinearExtrapolation(UncoveredTensors mode)
    {
        using var policy = new TinyPolicy(d: 16);
        var path = new PathDriver(policy, curvature: 0, seed: 7); // moves embeddings and head linearly too
        var options = Options();
        options.Jumps.Methods = [new Rank1LineJumpOptions { Uncovered = mode }];
        using var alpha = AlphaRL.Accelerate(policy, options);
        for (int step = 1; step <= 40; step++)
        {
            path.MoveTo(step);
            alpha.Step(step);
        }

        Assert.That(alpha.JumpsKept, Is.EqualTo(1));
        string[] uncovered = ["tok_embeddings.weight", "lm_head.weight"];
        if (mode == UncoveredTensors.Extrapolate)
            Assert.That(path.RelativeDistanceTo(120, uncovered), Is.LessThan(1e-3));
        else
            Assert.That(path.RelativeDistanceTo(40, uncovered), Is.LessThan(1e-6));
    }

    [Test]
    public void OnlinePrediction_AgreesWithTheOfflineCoreComputation_OnTheSameTrajectory()
    {
        using var policy = new TinyPolicy(d: 16);
        var path = new PathDriver(policy, curvature: 0.05f, seed: 8);
        var options = Options();
        options.Attempts.FitThreshold = 10; // compare the two computations whatever the fit's quality
        using var alpha = AlphaRL.Accelerate(policy, options);
        for (int step = 1; step <= 40; step++)
        {
            path.MoveTo(step);
            alpha.Step(step);
        }
        Assert.That(alpha.JumpsKept, Is.EqualTo(1));

        // Offline: the same snapshots from plain arrays, fitted and applied by AlphaRL.Core alone.
        var tracker = new AlphaRl.Tracking.SubspaceTracker();
        var extrapolator = new AlphaRl.Extrapolation.StepLineExtrapolator();
        var live = policy.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var name in alpha.Covered)
        {
            int rows = (int)live[name].shape[0], cols = (int)live[name].shape[1];
            var w0 = Synthetic.ToArray(path.At(name, 0));
            foreach (long t in new long[] { 10, 20, 30, 40 })
                tracker.Observe(name, t, Synthetic.ToArray(path.At(name, t)).Zip(w0, (a, b) => a - b).ToArray(), rows, cols);
            var fit = extrapolator.Fit(name, tracker.Snapshots(name));
            var offline = Synthetic.ToArray(path.At(name, 40));
            AlphaRl.Extrapolation.Rank1Jump.Apply(offline, rows, cols,
                AlphaRl.Extrapolation.Rank1Jump.Coefficients(fit, extrapolator.Predict(fit, 120), AlphaRl.Extrapolation.JumpForm.Increment), fit.LastV);

            var online = Synthetic.ToArray(live[name]);
            double err = Math.Sqrt(online.Zip(offline, (a, b) => Math.Pow(a - b, 2)).Sum() / offline.Sum(x => (double)x * x));
            Assert.That(err, Is.LessThan(1e-5), name);
        }
    }

    private sealed class EncoderPolicy : nn.Module<Tensor, Tensor>
    {
        private readonly global::TorchSharp.Modules.Embedding embedding = nn.Embedding(10, 16);
        private readonly global::TorchSharp.Modules.TransformerEncoder encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32), 2);
        private readonly global::TorchSharp.Modules.Linear head = nn.Linear(16, 10);

        public EncoderPolicy() : base(nameof(EncoderPolicy)) => RegisterComponents();

        public override Tensor forward(Tensor x) => head.forward(encoder.forward(embedding.forward(x), null, null));
    }
}
