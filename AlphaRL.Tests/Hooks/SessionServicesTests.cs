using AlphaRl.Extrapolation;
using AlphaRl.Tracking;
using AlphaRl.TorchSharp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AlphaRl.Tests.Hooks;

/// <summary>Behaviour passed beside the settings: the trajectory fit, directly or from the container.</summary>
public class SessionServicesTests
{
    /// <summary>The step line, counting its fits.</summary>
    private sealed class CountingFit : IExtrapolator
    {
        private readonly StepLineExtrapolator _inner = new();
        public int Fits { get; private set; }
        public string Name => "counting";
        public TrajectoryFit Fit(string matrix, IReadOnlyList<Rank1Snapshot> window) { Fits++; return _inner.Fit(matrix, window); }
        public float[] Predict(TrajectoryFit fit, long targetStep) => _inner.Predict(fit, targetStep);
    }

    private static void Run(AlphaRLSession alpha, Lifecycle run, global::TorchSharp.torch.nn.Module policy)
    {
        for (int t = 1; t <= 20; t++) { run.Train(policy, t); alpha.Step(t, _ => run.Score(policy)); }
    }

    [Test]
    public void AnExtrapolatorInTheServices_IsTheSessionsFit()
    {
        var fit = new CountingFit();
        using var run = new Lifecycle();
        using var policy = Lifecycle.NewPolicy();
        using (var alpha = AlphaRL.Accelerate(policy, Lifecycle.Options(), new SessionServices { Extrapolator = fit }))
            Run(alpha, run, policy);
        Assert.That(fit.Fits, Is.GreaterThan(0));
    }

    [Test]
    public void TheFactory_TakesTheExtrapolatorKeyedByTheSettingsName()
    {
        var actorFit = new CountingFit();
        using var provider = new ServiceCollection()
            .AddKeyedSingleton<IExtrapolator>("actor", actorFit)
            .AddAlphaRL("actor", o => o.Snapshots.Interval = 5)
            .AddAlphaRL("critic", o => o.Snapshots.Interval = 5)
            .BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        var factory = provider.GetRequiredService<IAlphaRLFactory>();
        using (var run = new Lifecycle())
        using (var policy = Lifecycle.NewPolicy())
        using (var critic = factory.Accelerate(policy, "critic"))
            Run(critic, run, policy);
        Assert.That(actorFit.Fits, Is.Zero, "the critic's session fits with the default step line");
        using (var run = new Lifecycle())
        using (var policy = Lifecycle.NewPolicy())
        using (var actor = factory.Accelerate(policy, "actor"))
            Run(actor, run, policy);
        Assert.That(actorFit.Fits, Is.GreaterThan(0), "the actor's session fits with the extrapolator keyed \"actor\"");
    }
}
