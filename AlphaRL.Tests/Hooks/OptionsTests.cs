using AlphaRl.Tests.Support;
using AlphaRl.TorchSharp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AlphaRl.Tests.Hooks;

public class OptionsTests
{
    private static readonly (Action<AlphaRLOptions> Break, string Setting)[] InvalidSettings =
    [
        (o => o.SnapshotInterval = 0, "SnapshotInterval = 0"),
        (o => o.MinSnapshots = 2, "MinSnapshots = 2"),
        (o => o.MaxSnapshots = 3, "MaxSnapshots = 3"),
        (o => o.FitThreshold = double.NaN, "FitThreshold = NaN"),
        (o => o.FitThreshold = -1, "FitThreshold = -1"),
        (o => o.HoldOutFraction = 1, "HoldOutFraction = 1"),
        (o => o.TargetMultiple = 1, "TargetMultiple = 1"),
        (o => o.TargetStep = 0, "TargetStep = 0"),
        (o => o.MaxJumps = -1, "MaxJumps = -1"),
        (o => o.GuardTolerance = double.NaN, "GuardTolerance = NaN"),
        (o => o.GuardTolerance = double.PositiveInfinity, "GuardTolerance = Infinity"),
        (o => o.JumpForm = (AlphaRl.Extrapolation.JumpForm)42, "JumpForm = 42"),
        (o => o.Uncovered = (UncoveredTensors)9, "Uncovered = 9"),
        (o => o.JumpLengths = [0, -1, 2], "JumpLengths[1] = -1"),
        (o => o.JumpLengths = [double.NaN, 2], "JumpLengths[0] = NaN"),
        (o => o.JumpLengths = [0], "JumpLengths = [0]"),
        (o => o.JumpLengths = null!, "JumpLengths = null"),
        (o => o.MaxEvaluationsPerWindow = 1, "MaxEvaluationsPerWindow = 1"),
        (o => o.Schedule = (JumpSchedule)7, "Schedule = 7"),
        (o => o.MinVelocityCosine = 1.5, "MinVelocityCosine = 1.5"),
        (o => o.MinStepNormTrend = -0.1, "MinStepNormTrend = -0.1"),
        (o => o.Methods = null!, "Methods = null"),
        (o => o.Methods = [new AlphaRl.TorchSharp.Jumps.VelocityJumpOptions { SkipSnapshots = 3 }], "Methods[0].SkipSnapshots = 3"),
        (o => o.Methods = [new AlphaRl.TorchSharp.Jumps.VelocityJumpOptions(), null!], "Methods[1] = null"),
        (o => o.Methods = [new AlphaRl.TorchSharp.Jumps.Rank1LineJumpOptions { Form = (AlphaRl.Extrapolation.JumpForm)42 }], "Methods[0].Form = 42"),
        (o => o.Methods = [new AlphaRl.TorchSharp.Jumps.Rank1LineJumpOptions { Uncovered = (UncoveredTensors)5 }], "Methods[0].Uncovered = 5"),
        (o => o.IncludePatterns = ["(unclosed"], "IncludePatterns[0] = \"(unclosed\""),
        (o => o.ExcludePatterns = ["[z-a]"], "ExcludePatterns[0] = \"[z-a]\""),
        (o => o.PowerIteration = new AlphaRl.Linalg.PowerIterationOptions { Tolerance = 0 }, "PowerIteration.Tolerance = 0"),
        (o => o.PowerIteration = new AlphaRl.Linalg.PowerIterationOptions { MaxIterations = 0 }, "PowerIteration.MaxIterations = 0"),
        (o => o.PowerIteration = new AlphaRl.Linalg.PowerIterationOptions { WarmPasses = -1 }, "PowerIteration.WarmPasses = -1"),
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
        Assert.That(validator.Validate(null, new AlphaRLOptions { GuardTolerance = -0.01, MaxEvaluationsPerWindow = 2 }).Succeeded, Is.True);
        Assert.That(validator.Validate(null, new AlphaRLOptions { TargetStep = 300, JumpLengths = [0] }).Succeeded, Is.True);
    }

    [Test]
    public void AllFailures_AreReportedTogether_OnTheNonDiPath()
    {
        using var policy = new TinyPolicy(d: 8);
        var e = Assert.Throws<OptionsValidationException>(() => AlphaRL.Accelerate(policy, o => { o.SnapshotInterval = 0; o.GuardTolerance = double.NaN; }))!;
        Assert.That(e.Failures.Count(), Is.EqualTo(2));
        Assert.That(e.Message, Does.Contain("SnapshotInterval").And.Contain("GuardTolerance"));
    }

    [Test]
    public void AddAlphaRL_ValidatesOnStart_NamingEverySetting()
    {
        using var provider = new ServiceCollection().AddAlphaRL(o => { o.SnapshotInterval = 0; o.MaxJumps = -2; }).BuildServiceProvider();
        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate())!;
        Assert.That(e.Message, Does.Contain("AlphaRLOptions.SnapshotInterval = 0").And.Contain("AlphaRLOptions.MaxJumps = -2"));
    }

    [Test]
    public void AddAlphaRL_ResolvesAFactory_ThatUsesTheConfiguredOptions()
    {
        using var provider = new ServiceCollection().AddLogging().AddAlphaRL(o => o.IncludePatterns = ["q_proj"]).BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        using var policy = new TinyPolicy(d: 8, layerCount: 1);

        using var session = provider.GetRequiredService<IAlphaRLFactory>().Accelerate(policy);

        Assert.That(session.Covered, Is.EqualTo(new[] { "layers.0.q_proj.weight" }));
    }
}
