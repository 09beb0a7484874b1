using AlphaRl.Checkpoints;
using AlphaRl.DevTools;
using AlphaRl.Tests.Checkpoints;

namespace AlphaRl.Tests.Cli;

/// <summary>predict on a series one of whose files (base or checkpoint) is a mutant of a valid file: it either succeeds with a complete,
/// readable output, or fails with a non-zero exit, a message, and no output or temporary folder left behind.</summary>
public class PredictFuzzTests
{
    public const int Cases = 300;

    [Test]
    public void Predict_OnMutatedCheckpoints_EitherWritesACompleteOutput_OrLeavesNothing()
    {
        using var temp = new TempFolder();
        var model = new SyntheticModel(1, 4, 6, 3, SafetensorsDType.BF16);
        long[] steps = [10, 20, 30];
        SyntheticSeries.Write(temp.Path, model, steps, seed: 1);
        var files = steps.Prepend(0).Select(s => Path.Combine(SyntheticSeries.Folder(temp.Path, s), Checkpoint.SingleFileName)).ToArray();
        var valid = files.Select(File.ReadAllBytes).ToArray();
        var random = new Random(7);
        string outputs = temp["outputs"];
        Directory.CreateDirectory(outputs);
        int succeeded = 0, failed = 0;
        for (int i = 0; i < Cases; i++)
        {
            int victim = random.Next(files.Length); // the base or any checkpoint
            for (int f = 0; f < files.Length; f++)
                File.WriteAllBytes(files[f], f == victim ? ReaderFuzzTests.Mutate(valid[f], random) : valid[f]);
            string output = Path.Combine(outputs, $"o{i}");

            var (exit, _, error) = CliHarness.Run(CliHarness.PredictArgs(temp.Path, steps, 50, output));

            if (exit == 0)
            {
                using var written = Checkpoint.Open(output);
                Assert.That(written.TensorNames, Is.Not.Empty);
                succeeded++;
            }
            else
            {
                Assert.That(error, Does.StartWith("error: "), $"case {i}");
                Assert.That(Directory.Exists(output), Is.False, $"case {i} left an output folder");
                failed++;
            }
            Assert.That(Directory.GetDirectories(outputs).Where(d => Path.GetFileName(d).StartsWith('.')), Is.Empty, $"case {i} left a temporary folder");
        }
        TestContext.Out.WriteLine($"{Cases} mutated series: {succeeded} predicted, {failed} rejected.");
        Assert.That(failed, Is.GreaterThan(0));
    }
}
