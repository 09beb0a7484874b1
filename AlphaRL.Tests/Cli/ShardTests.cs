using AlphaRl.Checkpoints;
using AlphaRl.Cli;
using AlphaRl.DevTools;
using AlphaRl.Tests.Checkpoints;

namespace AlphaRl.Tests.Cli;

/// <summary><c>predict --shard i/n</c> and <c>merge</c>: n processes each write a part; the merged output is
/// byte-identical to one process's.</summary>
public class ShardTests : TempFolderTests
{
    private static readonly long[] Steps = [10, 20, 30];

    private static byte[][] Bytes(string folder) =>
        Directory.GetFiles(folder).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToArray();

    [TestCase(3, 1, "rank1")]
    [TestCase(4, 3, "rank1")]
    [TestCase(2, 2, "direction")]
    [TestCase(1, 1, "rank1")]
    public void ShardedPredictAndMerge_AreByteIdenticalToOneProcess(int shards, int fileShards, string method)
    {
        SyntheticSeries.Write(Temp.Path, new SyntheticModel(2, 10, 16, 5, SafetensorsDType.BF16, fileShards), Steps, noise: 1e-3f);
        var (one, _, oneError) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 70, Temp["single"], "--method", method, "--force"));
        Assert.That(one, Is.EqualTo(0), oneError);

        var covered = new HashSet<string>();
        for (int i = shards - 1; i >= 0; i--) // any order, as a job array runs them
        {
            var (exit, output, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 70, Temp["sharded"], "--method", method, "--shard", $"{i}/{shards}", "--force"));
            Assert.That(exit, Is.EqualTo(0), error);
            Assert.That(output, Does.Contain($"Wrote part {i}/{shards}"));
            using var part = SafetensorsFile.Open(Path.Combine(Temp[$"sharded.part-{i}-of-{shards}"], Shards.PartFile));
            Assert.That(part.Tensors.Select(t => t.Name).Where(n => !covered.Add(n)), Is.Empty, "each tensor is in one part");
        }
        Assert.That(Directory.Exists(Temp["sharded"]), Is.False, "no output before the merge");

        var (merged, mergeOutput, mergeError) = CliHarness.Run("merge", "--out", Temp["sharded"]);

        Assert.That(merged, Is.EqualTo(0), mergeError);
        Assert.That(mergeOutput, Does.Contain($"from {shards} parts"));
        Assert.That(Directory.GetFiles(Temp["sharded"]).Select(Path.GetFileName), Is.EquivalentTo(Directory.GetFiles(Temp["single"]).Select(Path.GetFileName)));
        Assert.That(Bytes(Temp["sharded"]), Is.EqualTo(Bytes(Temp["single"])));
        Assert.That(covered, Has.Count.EqualTo(2 * 7), "the parts hold exactly the covered matrices");
        Assert.That(Directory.GetDirectories(Temp.Path, "sharded.part-*"), Is.Empty, "the parts are removed");
    }

    [Test]
    public void ShardedPredictFromAStore_MergesToThePredictionOfTheSeries()
    {
        SyntheticSeries.Write(Temp.Path, new SyntheticModel(1, 10, 16, 5, SafetensorsDType.BF16, 2), Steps, noise: 1e-3f);
        foreach (long s in Steps)
            Assert.That(CliHarness.Run("record", SyntheticSeries.Folder(Temp.Path, s), "--step", $"{s}", "--base", SyntheticSeries.Folder(Temp.Path, 0), "--store", Temp["store"]).Exit, Is.EqualTo(0));
        Assert.That(CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 70, Temp["single"], "--force")).Exit, Is.EqualTo(0));

        for (int i = 0; i < 2; i++)
            Assert.That(CliHarness.Run("predict", "--store", Temp["store"], "--target-step", "70", "--out", Temp["sharded"], "--shard", $"{i}/2", "--force").Exit, Is.EqualTo(0));
        var (merged, _, error) = CliHarness.Run("merge", "--out", Temp["sharded"]);

        Assert.That(merged, Is.EqualTo(0), error);
        Assert.That(Bytes(Temp["sharded"]), Is.EqualTo(Bytes(Temp["single"])));
    }

    [Test]
    public void Merge_WithAPartMissing_WritesNothing_AndSaysWhich()
    {
        SyntheticSeries.Write(Temp.Path, new SyntheticModel(1, 8, 12, 5, SafetensorsDType.F32), Steps);
        foreach (int i in new[] { 0, 2 })
            Assert.That(CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 70, Temp["out"], "--shard", $"{i}/3")).Exit, Is.EqualTo(0));

        var (exit, _, error) = CliHarness.Run("merge", "--out", Temp["out"]);

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(error, Does.Contain("parts 1/3 are missing"));
        Assert.That(Directory.Exists(Temp["out"]), Is.False);
    }

    [TestCase("3/3")]
    [TestCase("-1/2")]
    [TestCase("1")]
    [TestCase("a/b")]
    [TestCase("0/0")]
    public void ABadShard_IsAUsageError(string shard)
    {
        SyntheticSeries.Write(Temp.Path, new SyntheticModel(1, 8, 12, 5, SafetensorsDType.F32), Steps);

        var (exit, _, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 70, Temp["out"], "--shard", shard));

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain($"--shard '{shard}' must be i/n"));
    }
}
