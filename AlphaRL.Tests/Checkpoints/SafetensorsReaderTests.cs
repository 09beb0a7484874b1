using System.Buffers.Binary;
using System.Text;
using AlphaRl.Checkpoints;

namespace AlphaRl.Tests.Checkpoints;

public class SafetensorsReaderTests : TempFolderTests
{
    /// <summary>A file with the given header text and data section length (data bytes are 0..n-1 mod 256).</summary>
    internal static byte[] FileBytes(string header, int dataLength, ulong? declaredLength = null)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataLength];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)json.Length);
        json.CopyTo(bytes, 8);
        for (int i = 0; i < dataLength; i++) bytes[8 + json.Length + i] = (byte)i;
        return bytes;
    }

    private string Write(byte[] bytes)
    {
        string path = Temp["model.safetensors"];
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private CheckpointFormatException Rejects(byte[] bytes)
    {
        string path = Write(bytes);
        var e = Assert.Throws<CheckpointFormatException>(() => SafetensorsFile.Open(path).Dispose())!;
        Assert.That(e.Message, Does.StartWith(path + ": "), "the message names the file");
        return e;
    }

    private const string Two = """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F16","shape":[2],"data_offsets":[8,12]}}""";

    [Test]
    public void Reader_Accepts_AWellFormedFile()
    {
        using var file = SafetensorsFile.Open(Write(FileBytes(Two, 12)));
        Assert.That(file.Tensors.Select(t => t.Name), Is.EqualTo(new[] { "a", "b" }));
    }

    [Test]
    public void ReadRaw_GivesTheStoredBytes_AndPrefetchIsAHintThatChangesNothing()
    {
        var bytes = FileBytes(Two, 12);
        using var file = SafetensorsFile.Open(Write(bytes));
        var b = file.Tensor("b");
        var raw = new byte[b.ByteLength];

        file.Prefetch(b);
        file.ReadRaw(b, raw);

        Assert.That(raw, Is.EqualTo(bytes.AsSpan((int)(file.DataStart + b.Begin), raw.Length).ToArray()));
        Assert.Throws<ArgumentException>(() => file.ReadRaw(b, new byte[raw.Length + 1]));
        if (OperatingSystem.IsLinux())
            Assert.That(OsReadAhead.IsAvailable, Is.True, "posix_fadvise was not found in libc.so.6");
    }

    [Test]
    public void Reader_Rejects_FileShorterThanTheLengthPrefix() =>
        Assert.That(Rejects(new byte[5]).Problem, Does.Contain("shorter than the 8-byte header length"));

    [Test]
    public void Reader_Rejects_HeaderLengthBeyondTheFile() =>
        Assert.That(Rejects(FileBytes(Two, 12, declaredLength: 5000)).Problem, Does.Contain("runs beyond the end of the file"));

    [Test]
    public void Reader_Rejects_HeaderLengthAboveTheCap() =>
        Assert.That(Rejects(FileBytes(Two, 12, declaredLength: SafetensorsFile.MaxHeaderBytes + 1)).Problem, Does.Contain("above the cap"));

    [Test]
    public void Reader_Rejects_InvalidUtf8()
    {
        var bytes = FileBytes(Two, 12);
        bytes[10] = 0xC3; // a lead byte followed by ASCII: invalid UTF-8 inside the name "a"
        bytes[11] = (byte)'"';
        Assert.That(Rejects(bytes).Problem, Does.Contain("not valid UTF-8"));
    }

    [Test]
    public void Reader_Rejects_InvalidJson() =>
        Assert.That(Rejects(FileBytes("""{"a":{"dtype":"F32",""", 0)).Problem, Does.Contain("not valid JSON"));

    [Test]
    public void Reader_Rejects_AHeaderThatIsNotAnObject() =>
        Assert.That(Rejects(FileBytes("[1, 2]", 0)).Problem, Does.Contain("must be a JSON object"));

    [Test]
    public void Reader_Rejects_UnknownDType() =>
        Assert.That(Rejects(FileBytes("""{"a":{"dtype":"F17","shape":[2],"data_offsets":[0,8]}}""", 8)).Problem, Does.Contain("unknown dtype 'F17'"));

    [Test]
    public void Reader_Rejects_LowercaseDType() =>
        Assert.That(Rejects(FileBytes("""{"a":{"dtype":"f32","shape":[2],"data_offsets":[0,8]}}""", 8)).Problem, Does.Contain("unknown dtype 'f32'"));

    [Test]
    public void Reader_Rejects_ShapeThatDisagreesWithTheByteRange() =>
        Assert.That(Rejects(FileBytes("""{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 8)).Problem,
            Does.Contain("needs 12 bytes, but its data_offsets [0, 8] span 8 bytes"));

    [Test]
    public void Reader_Rejects_ShapeWhoseSizeOverflows() =>
        Assert.That(Rejects(FileBytes("""{"a":{"dtype":"F32","shape":[9223372036854775807,4],"data_offsets":[0,8]}}""", 8)).Problem, Does.Contain("too large"));

    [Test]
    public void Reader_Rejects_NegativeDimensions() =>
        Assert.That(Rejects(FileBytes("""{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", 8)).Problem, Does.Contain("non-negative integers"));

    [Test]
    public void Reader_Rejects_OffsetsOutOfBounds() =>
        Assert.That(Rejects(FileBytes("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 4)).Problem, Does.Contain("out of bounds"));

    [Test]
    public void Reader_Rejects_ReversedOffsets() =>
        Assert.That(Rejects(FileBytes("""{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}""", 8)).Problem, Does.Contain("end before they begin"));

    [Test]
    public void Reader_Rejects_OverlappingOffsets() =>
        Assert.That(Rejects(FileBytes("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12)).Problem,
            Does.Contain("'a' [0, 8] and 'b' [4, 12] overlap"));

    [Test]
    public void Reader_Rejects_HolesBetweenTensors() =>
        Assert.That(Rejects(FileBytes("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""", 12)).Problem,
            Does.Contain("belong to no tensor"));

    [Test]
    public void Reader_Rejects_TrailingBytesAfterTheLastTensor() =>
        Assert.That(Rejects(FileBytes("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 6)).Problem, Does.Contain("no trailing bytes"));

    [Test]
    public void Reader_Rejects_DuplicateNames() =>
        Assert.That(Rejects(FileBytes("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8)).Problem,
            Does.Contain("names 'a' more than once"));

    [Test]
    public void Reader_Rejects_DuplicateFieldsInAnEntry() =>
        Assert.That(Rejects(FileBytes("""{"a":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}}""", 4)).Problem,
            Does.Contain("names 'dtype' more than once"));

    [Test]
    public void Reader_Rejects_MetadataThatIsNotStrings() =>
        Assert.That(Rejects(FileBytes("""{"__metadata__":{"format":3},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 4)).Problem,
            Does.Contain("must be a string"));

    [Test]
    public void Reader_Rejects_AnEntryWithoutOffsets() =>
        Assert.That(Rejects(FileBytes("""{"a":{"dtype":"F32","shape":[1]}}""", 4)).Problem, Does.Contain("lacks 'data_offsets'"));

    [Test]
    public void Writer_And_Reader_RoundTrip_F32_F16_BF16_WithMetadata()
    {
        string path = Temp["round.safetensors"];
        var values = Enumerable.Range(0, 12).Select(i => i * 0.25f - 1.5f).ToArray();
        SafetensorsFile.Write(path, [
            ("w.f32", SafetensorsDType.F32, [3, 4], values),
            ("w.f16", SafetensorsDType.F16, [12], values),
            ("w.bf16", SafetensorsDType.BF16, [4, 3], values),
        ], new Dictionary<string, string> { ["format"] = "pt" });

        using var file = SafetensorsFile.Open(path);
        Assert.That(file.Metadata["format"], Is.EqualTo("pt"));
        Assert.That(file.DataStart % 8, Is.EqualTo(0), "header padded to 8 bytes");
        foreach (var t in file.Tensors)
        {
            var read = new float[t.ElementCount];
            file.ReadFloats(t, read);
            Assert.That(read, Is.EqualTo(values), t.Name); // exactly representable in all three types
        }
        Assert.That(file.Tensor("w.bf16").Shape, Is.EqualTo(new long[] { 4, 3 }));
        Assert.That(file.Tensor("w.f16").DType, Is.EqualTo(SafetensorsDType.F16));
    }

    [Test]
    public void BFloat16_Encoding_RoundsToNearestEven()
    {
        Assert.That(FloatCodec.ToBFloat16(0x3F80_8000), Is.EqualTo(0x3F80), "a tie rounds to the even neighbour below");
        Assert.That(FloatCodec.ToBFloat16(0x3F81_8000), Is.EqualTo(0x3F82), "a tie rounds to the even neighbour above");
        Assert.That(FloatCodec.ToBFloat16(0x3F80_8001), Is.EqualTo(0x3F81), "above the tie rounds up");
        Assert.That(FloatCodec.ToBFloat16(BitConverter.SingleToUInt32Bits(float.NaN)) & 0x7F80, Is.EqualTo(0x7F80), "NaN stays NaN");
    }
}
