using AlphaRl.Checkpoints;
using AlphaRl.DevTools;

namespace AlphaRl.Tests.Checkpoints;

public class CheckpointFolderTests : TempFolderTests
{
    private static readonly SyntheticModel Sharded = new(Layers: 2, Hidden: 8, Intermediate: 12, Vocab: 10, SafetensorsDType.BF16, Shards: 2);
    private string ShardedBase()
    {
        SyntheticSeries.Write(Temp.Path, Sharded, []);
        return SyntheticSeries.Folder(Temp.Path, 0);
    }

    private static string Index(string folder) => Path.Combine(folder, Checkpoint.IndexFileName);

    [Test]
    public void Checkpoint_Opens_AShardedLayout_WithEveryTensorOfTheIndex()
    {
        using var checkpoint = Checkpoint.Open(ShardedBase());
        Assert.That(checkpoint.IsSharded, Is.True);
        Assert.That(checkpoint.Shards, Has.Count.EqualTo(2));
        Assert.That(checkpoint.TensorNames, Is.EquivalentTo(SyntheticSeries.Tensors(Sharded).Select(t => t.Name)));
    }

    [Test]
    public void Checkpoint_Rejects_AFolderWithoutWeights()
    {
        var e = Assert.Throws<CheckpointFormatException>(() => Checkpoint.Open(Temp.Path))!;
        Assert.That(e.Message, Does.Contain(Temp.Path).And.Contain("holds neither"));
    }

    [Test]
    public void Checkpoint_Rejects_AnIndexThatNamesAMissingShard()
    {
        string folder = ShardedBase();
        File.Delete(Path.Combine(folder, "model-00002-of-00002.safetensors"));
        var e = Assert.Throws<CheckpointFormatException>(() => Checkpoint.Open(folder))!;
        Assert.That(e.Message, Does.Contain(Checkpoint.IndexFileName).And.Contain("does not exist"));
    }

    [Test]
    public void Checkpoint_Rejects_AShardPathLeadingOutOfTheFolder()
    {
        string folder = ShardedBase();
        File.WriteAllText(Index(folder), File.ReadAllText(Index(folder)).Replace("\"model-00002-of-00002.safetensors\"", "\"../model-00002-of-00002.safetensors\""));
        var e = Assert.Throws<CheckpointFormatException>(() => Checkpoint.Open(folder))!;
        Assert.That(e.Problem, Does.Contain("not a .safetensors file name beside the index"));
    }

    [Test]
    public void Checkpoint_Rejects_AShardTensorTheIndexPlacesElsewhere()
    {
        string folder = ShardedBase();
        File.WriteAllText(Index(folder), File.ReadAllText(Index(folder)).Replace(
            "\"model.embed_tokens.weight\": \"model-00001-of-00002.safetensors\"", "\"model.embed_tokens.weight\": \"model-00002-of-00002.safetensors\""));
        var e = Assert.Throws<CheckpointFormatException>(() => Checkpoint.Open(folder))!;
        Assert.That(e.Problem, Does.Contain("model.embed_tokens.weight"));
    }

    [Test]
    public void Checkpoint_Rejects_DuplicateNamesInTheIndex()
    {
        string folder = ShardedBase();
        File.WriteAllText(Index(folder), File.ReadAllText(Index(folder)).Replace(
            "\"weight_map\": {", "\"weight_map\": {\n    \"model.norm.weight\": \"model-00002-of-00002.safetensors\","));
        var e = Assert.Throws<CheckpointFormatException>(() => Checkpoint.Open(folder))!;
        Assert.That(e.Problem, Does.Contain("names 'model.norm.weight' more than once"));
    }

    [Test]
    public void Writer_KeepsShardingAndDTypes_WritesTheIndex_AndCopiesOnlyNonWeightFiles()
    {
        string folder = ShardedBase();
        File.WriteAllText(Path.Combine(folder, "pytorch_model.bin"), "stale weights");
        string output = Temp["out"];
        using (var source = Checkpoint.Open(folder))
            CheckpointWriter.Write(output, source, (t, s) => t.File.CopyRawTo(t.Info, s));

        Assert.That(Directory.GetFiles(output).Select(Path.GetFileName), Is.EquivalentTo(new[]
        {
            "config.json", "tokenizer.json", Checkpoint.IndexFileName, "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
        }));
        Assert.That(Directory.GetDirectories(Temp.Path).Select(Path.GetFileName), Is.EquivalentTo(new[] { "base", "out" }), "no temporary folder left");
        using var a = Checkpoint.Open(folder);
        using var b = Checkpoint.Open(output);
        Assert.That(b.TensorNames, Is.EqualTo(a.TensorNames));
        foreach (string name in a.TensorNames)
        {
            Assert.That(b.Tensor(name).Info, Is.EqualTo(a.Tensor(name).Info).Using<TensorInfo>((x, y) => x.SameLayout(y) && x.Begin == y.Begin));
            Assert.That(Path.GetFileName(b.Tensor(name).File.Path), Is.EqualTo(Path.GetFileName(a.Tensor(name).File.Path)));
        }
        for (int i = 0; i < a.Shards.Count; i++)
            Assert.That(File.ReadAllBytes(b.Shards[i].Path), Is.EqualTo(File.ReadAllBytes(a.Shards[i].Path)), "raw copy reproduces each shard byte for byte");
    }

    [Test]
    public void Writer_LeavesNoFolderBehind_WhenATensorFails()
    {
        string folder = ShardedBase();
        string output = Temp["out"];
        using var source = Checkpoint.Open(folder);
        Assert.Throws<InvalidOperationException>(() => CheckpointWriter.Write(output, source, (t, s) =>
        {
            if (t.Info.Name.Contains("layers.1")) throw new InvalidOperationException("boom");
            t.File.CopyRawTo(t.Info, s);
        }));
        Assert.That(Directory.GetDirectories(Temp.Path).Select(Path.GetFileName), Is.EqualTo(new[] { "base" }));
    }

    [Test]
    public void Writer_LeavesNoFolderBehind_WhenCancelled()
    {
        string folder = ShardedBase();
        using var source = Checkpoint.Open(folder);
        using var cancellation = new CancellationTokenSource();
        int written = 0;
        Assert.Throws<OperationCanceledException>(() => CheckpointWriter.Write(Temp["out"], source, (t, s) =>
        {
            t.File.CopyRawTo(t.Info, s);
            if (++written == 3) cancellation.Cancel();
        }, cancellation.Token));
        Assert.That(written, Is.EqualTo(3));
        Assert.That(Directory.GetDirectories(Temp.Path).Select(Path.GetFileName), Is.EqualTo(new[] { "base" }));
    }

    [Test]
    public void Writer_Rejects_AnExistingOutputFolder()
    {
        string folder = ShardedBase();
        using var source = Checkpoint.Open(folder);
        var e = Assert.Throws<AlphaRLException>(() => CheckpointWriter.Write(folder, source, (t, s) => t.File.CopyRawTo(t.Info, s)))!;
        Assert.That(e.Message, Does.Contain("already exists"));
    }
}
