using System.Security.Cryptography;
using AlphaRl.Checkpoints;
using AlphaRl.Cli;
using AlphaRl.Tests.Checkpoints;

namespace AlphaRl.Tests.Cli;

public class PredictMethodTests : TempFolderTests
{
    private static readonly long[] Steps = [10, 20, 30, 40];

    /// <summary>SHA-256 over the names and bytes of every file of a folder, in name order.</summary>
    private static string FolderHash(string folder) => Convert.ToHexString(SHA256.HashData(
        Directory.GetFiles(folder).Order(StringComparer.Ordinal)
            .SelectMany(f => System.Text.Encoding.UTF8.GetBytes(Path.GetFileName(f)).Concat(File.ReadAllBytes(f))).ToArray()));

    // Computed with the predict command as it was before --method rank1|velocity|direction existed (commit dba280e).
    private const string Rank1GoldenHash = "4A9A240430472CA3371012E378911B324BBE2E52A39F00DEAFDAE44AB5F374DD";

    [Test]
    public void Rank1_DefaultOutput_IsByteIdentical_ToTheOutputBeforeTheMethodOptionExisted()
    {
        SyntheticSeries.Write(Temp.Path, new SyntheticModel(1, 8, 12, 6, SafetensorsDType.BF16, Shards: 2), Steps, seed: 3, noise: 2e-3f);
        string output = Temp["default"];

        var (exit, _, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 100, output));

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(FolderHash(output), Is.EqualTo(Rank1GoldenHash));
    }
}
