using AlphaRl.Tests.Checkpoints;

namespace AlphaRl.Tests.Cli;

/// <summary>The fuzz and benchmark commands belong to the development tool <c>alpharl-dev</c>, not to the shipped <c>alpharl</c>.</summary>
public class DevToolsTests : TempFolderTests
{
    [TestCase("fuzz")]
    [TestCase("bench-offline")]
    public void Alpharl_DoesNotKnowTheDevelopmentCommand_AsAUsageError(string command)
    {
        var (exit, _, error) = CliHarness.Run(command, "--dir", Temp.Path);

        Assert.That(exit, Is.EqualTo(2), error);
        Assert.That(error, Does.Contain("Run 'alpharl --help'"));
    }

    [Test]
    public void AlpharlDevFuzz_RunsTheCasesAskedFor_AndExits0WhenNoneBreaksTheContract()
    {
        var (exit, output, error) = CliHarness.RunDevTools("fuzz", "--dir", Temp.Path, "--cases", "6", "--seed", "3");

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("6 cases in").And.Contain("0 broke the contract"));
    }

    [Test]
    public void AlpharlDev_WithAnUnknownCommand_IsAUsageError_NamingItself()
    {
        var (exit, _, error) = CliHarness.RunDevTools("predict");

        Assert.That(exit, Is.EqualTo(2), error);
        Assert.That(error, Does.Contain("Run 'alpharl-dev --help'"));
    }
}
