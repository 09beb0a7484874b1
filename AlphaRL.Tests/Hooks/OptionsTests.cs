using AlphaRl.Tests.Support;
using AlphaRl.TorchSharp;
using AlphaRl.TorchSharp.Jumps;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AlphaRl.Tests.Hooks;

public class OptionsTests
{
    private static readonly (Action<AlphaRLOptions> Break, string Setting)[] InvalidSettings =
    [
        (o => o.Snapshots.Interval = 0, "Snapshots.Interval = 0"),
        (o => o.Snapshots.StartStep = -1, "Snapshots.StartStep = -1"),
        (o => o.Attempts.MinSnapshots = 2, "Attempts.MinSnapshots = 2"),
        (o => o.Snapshots.Max = 3, "Snapshots.Max = 3"),
        (o => o.Attempts.FitThreshold = double.NaN, "Attempts.FitThreshold = NaN"),
        (o => o.Attempts.FitThreshold = -1, "Attempts.FitThreshold = -1"),
        (o => o.Attempts.HoldOutFraction = 1, "Attempts.HoldOutFraction = 1"),
        (o => o.Jumps.TargetStep = 0, "Jumps.TargetStep = 0"),
        (o => o.Attempts.MaxJumps = -1, "Attempts.MaxJumps = -1"),
        (o => o.Guard.Tolerance = double.NaN, "Guard.Tolerance = NaN"),
        (o => o.Guard.Tolerance = double.PositiveInfinity, "Guard.Tolerance = Infinity"),
        (o => o.Guard.NoiseZ = -1, "Guard.NoiseZ = -1"),
        (o => o.Guard.Floors = new Dictionary<string, double> { ["format_c"] = double.NaN }, "Guard.Floors[\"format_c\"] = NaN"),
        (o => o.Jumps.Lengths = [0, -1, 2], "Jumps.Lengths[1] = -1"),
        (o => o.Jumps.Lengths = [double.NaN, 2], "Jumps.Lengths[0] = NaN"),
        (o => o.Jumps.Lengths = [0], "Jumps.Lengths = [0]"),
        (o => o.Jumps.Lengths = null!, "Jumps.Lengths = null"),
        (o => o.Jumps.MaxEvaluations = 1, "Jumps.MaxEvaluations = 1"),
        (o => o.Attempts.Schedule = (JumpSchedule)7, "Attempts.Schedule = 7"),
        (o => o.Attempts.MinVelocityCosine = 1.5, "Attempts.MinVelocityCosine = 1.5"),
        (o => o.Attempts.MinStepNormTrend = -0.1, "Attempts.MinStepNormTrend = -0.1"),
        (o => o.Jumps.Methods = null!, "Jumps.Methods = null"),
        (o => o.Jumps.Methods = [new VelocityJumpOptions { SkipSnapshots = 3 }], "Jumps.Methods[0].SkipSnapshots = 3"),
        (o => o.Jumps.Methods = [new VelocityJumpOptions(), null!], "Jumps.Methods[1] = null"),
        (o => o.Jumps.Methods = [new Rank1LineJumpOptions { Form = (AlphaRl.Extrapolation.JumpForm)42 }], "Jumps.Methods[0].Form = 42"),
        (o => o.Jumps.Methods = [new Rank1LineJumpOptions { Uncovered = (UncoveredTensors)5 }], "Jumps.Methods[0].Uncovered = 5"),
        (o => o.Coverage.Include = ["(unclosed"], "Coverage.Include[0] = \"(unclosed\""),
        (o => o.Coverage.Exclude = ["[z-a]"], "Coverage.Exclude[0] = \"[z-a]\""),
        (o => o.Snapshots.PowerIteration = new AlphaRl.Linalg.PowerIterationOptions { Tolerance = 0 }, "Snapshots.PowerIteration.Tolerance = 0"),
        (o => o.Snapshots.PowerIteration = new AlphaRl.Linalg.PowerIterationOptions { MaxIterations = 0 }, "Snapshots.PowerIteration.MaxIterations = 0"),
        (o => o.Snapshots.PowerIteration = new AlphaRl.Linalg.PowerIterationOptions { WarmPasses = -1 }, "Snapshots.PowerIteration.WarmPasses = -1"),
        (o => o.Guard = null!, "Guard = null"),
    ];

    private static IEnumerable<TestCaseData> Cases() => InvalidSettings.Select(c => new TestCaseData(c.Break, c.Setting).SetArgDisplayNames(c.Setting));

    [TestCaseSource(nameof(Cases))]
    public void EachInvalidSetting_GivesAMessageNamingItAndItsValue(Action<AlphaRLOptions> breakIt, string setting)
    {
        var options = new AlphaRLOptions();
        breakIt(options);
        var result = new AlphaRLOptionsValidator().Validate(null, options);
        Assert.That(result.Failed, Is.True);
        Assert.That(result.Failures, Has.Exactly(1).Contains($"AlphaRLOptions.{setting} is invalid"));
    }

    [Test]
    public void Defaults_AreValid()
    {
        Assert.That(new AlphaRLOptionsValidator().Validate(null, new AlphaRLOptions()).Succeeded, Is.True);
    }

    [Test]
    public void ThePaperPreset_ANegativeGuardTolerance_AndASingleTargetStep_AreValid()
    {
        var validator = new AlphaRLOptionsValidator();
        Assert.That(validator.Validate(null, AlphaRLOptions.Paper()).Succeeded, Is.True);
        Assert.That(validator.Validate(null, new AlphaRLOptions { Jumps = { MaxEvaluations = 2 }, Guard = { Tolerance = -0.01 } }).Succeeded, Is.True);
        Assert.That(validator.Validate(null, new AlphaRLOptions { Jumps = { TargetStep = 300, Lengths = [0] } }).Succeeded, Is.True);
    }

    [Test]
    public void AllFailures_AreReportedTogether_OnTheNonDiPath()
    {
        using var policy = new TinyPolicy(d: 8);
        var e = Assert.Throws<OptionsValidationException>(() => AlphaRL.Accelerate(policy, o => { o.Snapshots.Interval = 0; o.Guard.Tolerance = double.NaN; }))!;
        Assert.That(e.Failures.Count(), Is.EqualTo(2));
        Assert.That(e.Message, Does.Contain("Snapshots.Interval").And.Contain("Guard.Tolerance"));
    }

    [Test]
    public void AddAlphaRL_ValidatesOnStart_NamingEverySetting()
    {
        using var provider = new ServiceCollection().AddAlphaRL(o => { o.Snapshots.Interval = 0; o.Attempts.MaxJumps = -2; }).BuildServiceProvider();
        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate())!;
        Assert.That(e.Message, Does.Contain("AlphaRLOptions.Snapshots.Interval = 0").And.Contain("AlphaRLOptions.Attempts.MaxJumps = -2"));
    }

    [Test]
    public void AddAlphaRL_ResolvesAFactory_ThatUsesTheConfiguredOptions()
    {
        using var provider = new ServiceCollection().AddLogging().AddAlphaRL(o => o.Coverage.Include = ["q_proj"]).BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        using var policy = new TinyPolicy(d: 8, layerCount: 1);

        using var session = provider.GetRequiredService<IAlphaRLFactory>().Accelerate(policy);

        Assert.That(session.Covered, Is.EqualTo(new[] { "layers.0.q_proj.weight" }));
    }
}
