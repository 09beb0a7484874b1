using System.Diagnostics;
using System.Text.Json;
using AlphaRl.Checkpoints;

namespace AlphaRl.Tests.Checkpoints;

/// <summary>Files written by an independent standard-library Python writer are read correctly, and files we write
/// pass that script's check of the format's rules. Skipped when python3 is not installed.</summary>
public class InteropTests
{
    private static string Script => Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "safetensors_stdlib.py");

    private static string Python(params string[] args)
    {
        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Script);
        foreach (string a in args) start.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Assert.Ignore("python3 is not installed; the interop fixture cannot be run.");
            throw;
        }
        using (process)
        {
            string output = process.StandardOutput.ReadToEnd();
            string error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.That(process.ExitCode, Is.EqualTo(0), error);
            return output;
        }
    }

    [Test]
    public void Reader_Reads_AFileWrittenByTheStandardLibraryPythonWriter()
    {
        using var temp = new TempFolder();
        string path = temp["fixture.safetensors"];
        Python("write", path);

        using var file = SafetensorsFile.Open(path);
        Assert.That(file.Tensors.Select(t => t.Name), Is.EqualTo(new[] { "b.bf16", "a.f32", "c.f16", "d.i64" }), "data order");
        Assert.That(file.Metadata["format"], Is.EqualTo("pt"));
        float[] Expected(int n) => Enumerable.Range(0, n).Select(k => k * 0.5f - 1f).ToArray();
        float[] Read(string name)
        {
            var t = file.Tensor(name);
            var values = new float[t.ElementCount];
            file.ReadFloats(t, values);
            return values;
        }
        Assert.That(Read("a.f32"), Is.EqualTo(Expected(6)));
        Assert.That(Read("b.bf16"), Is.EqualTo(Expected(4)));
        Assert.That(Read("c.f16"), Is.EqualTo(Expected(4)));
        Assert.That(file.Tensor("a.f32").Shape, Is.EqualTo(new long[] { 2, 3 }));
        var raw = new MemoryStream();
        file.CopyRawTo(file.Tensor("d.i64"), raw);
        Assert.That(Enumerable.Range(0, 3).Select(i => BitConverter.ToInt64(raw.ToArray(), 8 * i)), Is.EqualTo(new long[] { 7, -8, 9 }));
    }

    [Test]
    public void FilesWeWrite_PassTheIndependentChecker_WithTheSameValues()
    {
        using var temp = new TempFolder();
        string path = temp["ours.safetensors"];
        var values = Enumerable.Range(0, 6).Select(k => k * 0.5f - 1f).ToArray();
        SafetensorsFile.Write(path, [
            ("x.bf16", SafetensorsDType.BF16, [2, 3], values),
            ("x.f16", SafetensorsDType.F16, [6], values),
            ("x.f32", SafetensorsDType.F32, [3, 2], values),
        ], new Dictionary<string, string> { ["format"] = "pt" });

        using var summary = JsonDocument.Parse(Python("check", path));
        foreach (string name in new[] { "x.bf16", "x.f16", "x.f32" })
            Assert.That(summary.RootElement.GetProperty(name).GetProperty("sum").GetDouble(), Is.EqualTo(values.Sum()).Within(1e-9), name);
        Assert.That(summary.RootElement.GetProperty("x.bf16").GetProperty("dtype").GetString(), Is.EqualTo("BF16"));
    }
}
