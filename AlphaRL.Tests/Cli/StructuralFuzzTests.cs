using AlphaRl.Checkpoints;
using AlphaRl.DevTools;
using AlphaRl.Tests.Checkpoints;

namespace AlphaRl.Tests.Cli;

/// <summary>
/// predict, analyze and record on series one of whose files is a structural mutant (<see cref="HeaderFuzzer"/>: JSON-level header
/// mutations, values in the data, raw damage): every run ends with exit 0, 1 or 2, never an unhandled exception, and
/// leaves a complete output or nothing. The long run is the development tool's command
/// <c>alpharl-dev fuzz --dir DIR --cases 100000</c>. (A record mutant whose victim is the base records step 10.)
/// </summary>
public class StructuralFuzzTests
{
    public const int Cases = 600;

    [Test]
    public void PredictAnalyzeAndRecord_OnStructuralMutants_EndWithExit0_1Or2_AndLeaveNothingHalfWritten()
    {
        using var temp = new TempFolder();

        var result = CliFuzz.Run(temp.Path, Cases, seed: 20261202, ["predict", "analyze", "record"]);

        TestContext.Out.WriteLine($"{result.Cases} cases in {result.Elapsed.TotalSeconds:0.0} s: " +
            string.Join(", ", result.Outcomes.Select(o => $"{o.Key} × {o.Value}")));
        Assert.That(result.Failures, Is.Empty);
        Assert.That(result.Outcomes.Values.Sum(), Is.EqualTo(Cases));
        foreach (string command in new[] { "predict", "analyze", "record" })
        {
            Assert.That(result.Outcomes.GetValueOrDefault($"{command}: exit 0"), Is.GreaterThan(0), $"some {command} mutants are still valid");
            Assert.That(result.Outcomes.GetValueOrDefault($"{command}: exit 1"), Is.GreaterThan(Cases / 6), $"most {command} mutants are rejected");
        }
    }

    [Test]
    public void Reader_OnStructuralMutants_ReadsWithinTheFile_OrThrowsOnlyCheckpointFormatException()
    {
        using var temp = new TempFolder();
        string path = temp["fuzz.safetensors"];
        var fuzzer = new HeaderFuzzer(ReaderFuzzTests.ValidFile());
        var random = new Random(5);
        int accepted = 0, rejected = 0;
        const int cases = 5000;
        for (int i = 0; i < cases; i++)
        {
            var bytes = fuzzer.Mutate(random);
            File.WriteAllBytes(path, bytes);
            try
            {
                ReaderFuzzTests.OpenAndReadEveryTensor(path, bytes.Length, $"case {i} ({fuzzer.LastMutation})");
                accepted++;
            }
            catch (CheckpointFormatException e)
            {
                Assert.That(e.File, Is.EqualTo(path));
                rejected++;
            }
            catch (Exception e) when (e is not AssertionException)
            {
                Assert.Fail($"case {i} ({fuzzer.LastMutation}): {e.GetType().Name}: {e.Message}");
            }
        }
        TestContext.Out.WriteLine($"{cases} structural mutants: {accepted} accepted, {rejected} rejected.");
        Assert.That(rejected, Is.GreaterThan(cases / 2));
        Assert.That(accepted, Is.GreaterThan(0));
    }
}
