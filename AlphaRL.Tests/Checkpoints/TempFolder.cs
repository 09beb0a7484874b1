using AlphaRl.Checkpoints;

namespace AlphaRl.Tests.Checkpoints;

/// <summary>A temporary folder deleted at the end of a test.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "alpharl-tests-" + Guid.NewGuid().ToString("N"));

    public string this[string relative] => System.IO.Path.Combine(Path, relative);

    public void Dispose()
    {
        if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
    }
}

/// <summary>Tests that each get a fresh temporary folder, <see cref="Temp"/>.</summary>
public abstract class TempFolderTests
{
    protected TempFolder Temp { get; private set; } = null!;

    [SetUp]
    public void CreateTempFolder() => Temp = new TempFolder();

    [TearDown]
    public void DeleteTempFolder() => Temp.Dispose();

    /// <summary>A float tensor of a checkpoint, read whole.</summary>
    protected static float[] Read(Checkpoint checkpoint, string name)
    {
        var t = checkpoint.Tensor(name);
        var values = new float[t.Info.ElementCount];
        t.ReadFloats(values);
        return values;
    }
}
