using System.Diagnostics;
using System.Text;
using AlphaRl.Checkpoints;

namespace AlphaRl.Tests.Checkpoints;

/// <summary>
/// Mutates a valid file in many ways (bit flips, byte rewrites in the header, truncation, insertion, a forged length
/// prefix, digit rewrites in offsets and shapes) and checks that opening and reading each mutant either succeeds
/// within the file or fails with <see cref="CheckpointFormatException"/>: no other exception, no hang.
/// </summary>
public class ReaderFuzzTests
{
    public const int Cases = 10_000;

    /// <summary>Opens <paramref name="path"/> and reads every tensor (floats as floats, the rest raw), asserting that each
    /// lies within the file's <paramref name="fileLength"/> bytes; the reader's exceptions propagate.</summary>
    internal static void OpenAndReadEveryTensor(string path, long fileLength, string label)
    {
        using var file = SafetensorsFile.Open(path);
        foreach (var t in file.Tensors)
        {
            Assert.That(file.DataStart + t.End, Is.LessThanOrEqualTo(fileLength), $"{label}: tensor '{t.Name}' lies beyond the file");
            if (t.DType.IsFloat()) file.ReadFloats(t, new float[t.ElementCount]);
            else file.CopyRawTo(t, Stream.Null);
        }
    }

    internal static byte[] ValidFile()
    {
        const string header = """{"__metadata__":{"format":"pt"},"w.q_proj":{"dtype":"BF16","shape":[3,4],"data_offsets":[0,24]},"w.f32":{"dtype":"F32","shape":[2,2],"data_offsets":[24,40]},"w.f16":{"dtype":"F16","shape":[4],"data_offsets":[40,48]},"w.i64":{"dtype":"I64","shape":[1],"data_offsets":[48,56]}}""";
        return SafetensorsReaderTests.FileBytes(header, 56);
    }

    internal static byte[] Mutate(byte[] valid, Random random)
    {
        var bytes = (byte[])valid.Clone();
        int headerEnd = (int)BitConverter.ToUInt64(valid, 0) + 8;
        switch (random.Next(7))
        {
            case 0: // flip bits anywhere
                for (int i = random.Next(1, 4); i > 0; i--) bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                return bytes;
            case 1: // rewrite header bytes with structural characters
                const string structural = "{}[]\",:0123456789-e.\\ ";
                for (int i = random.Next(1, 3); i > 0; i--) bytes[random.Next(8, headerEnd)] = (byte)structural[random.Next(structural.Length)];
                return bytes;
            case 2: // truncate
                return bytes[..random.Next(bytes.Length)];
            case 3: // insert random bytes
            {
                int at = random.Next(bytes.Length), n = random.Next(1, 9);
                var extra = new byte[n];
                random.NextBytes(extra);
                return [.. bytes[..at], .. extra, .. bytes[at..]];
            }
            case 4: // forge the length prefix
                BitConverter.TryWriteBytes(bytes.AsSpan(0, 8), random.Next(3) switch
                {
                    0 => (ulong)random.NextInt64(),
                    1 => (ulong)(headerEnd - 8 + random.Next(-16, 17)),
                    _ => ulong.MaxValue - (ulong)random.Next(16),
                });
                return bytes;
            case 5: // rewrite a digit of an offset or a shape
            {
                var digits = Enumerable.Range(8, headerEnd - 8).Where(i => char.IsAsciiDigit((char)bytes[i])).ToList();
                bytes[digits[random.Next(digits.Count)]] = (byte)('0' + random.Next(10));
                return bytes;
            }
            default: // replace a dtype name
            {
                string text = Encoding.UTF8.GetString(bytes, 8, headerEnd - 8);
                string[] names = ["F32", "F16", "BF16", "I64", "F64", "U8", "BOOL", "F8_E4M3", "X9", ""];
                string replaced = text.Replace("\"BF16\"", "\"" + names[random.Next(names.Length)] + "\"");
                var header = Encoding.UTF8.GetBytes(replaced);
                var result = new byte[8 + header.Length + bytes.Length - headerEnd];
                BitConverter.TryWriteBytes(result.AsSpan(0, 8), (ulong)header.Length);
                header.CopyTo(result, 8);
                bytes.AsSpan(headerEnd).CopyTo(result.AsSpan(8 + header.Length));
                return result;
            }
        }
    }

    [Test]
    public void Reader_Survives_TenThousandMutatedFiles_WithOnlyItsOwnErrors()
    {
        using var temp = new TempFolder();
        string path = temp["fuzz.safetensors"];
        var valid = ValidFile();
        var random = new Random(20261124);
        int accepted = 0, rejected = 0;
        var slowest = TimeSpan.Zero;
        var total = Stopwatch.StartNew();
        for (int i = 0; i < Cases; i++)
        {
            var bytes = Mutate(valid, random);
            File.WriteAllBytes(path, bytes);
            var one = Stopwatch.StartNew();
            try
            {
                OpenAndReadEveryTensor(path, bytes.Length, $"case {i}");
                accepted++;
            }
            catch (CheckpointFormatException e)
            {
                Assert.That(e.File, Is.EqualTo(path));
                rejected++;
            }
            catch (Exception e) when (e is not AssertionException)
            {
                Assert.Fail($"case {i}: {e.GetType().Name}: {e.Message}\nfile bytes: {Convert.ToHexString(bytes)}");
            }
            if (one.Elapsed > slowest) slowest = one.Elapsed;
        }
        TestContext.Out.WriteLine($"{Cases} mutants: {accepted} accepted, {rejected} rejected; slowest {slowest.TotalMilliseconds:0.0} ms, total {total.Elapsed.TotalSeconds:0.0} s.");
        Assert.That(accepted + rejected, Is.EqualTo(Cases));
        Assert.That(rejected, Is.GreaterThan(Cases / 2), "most mutants are malformed");
        Assert.That(slowest, Is.LessThan(TimeSpan.FromSeconds(2)), "no mutant makes the reader hang");
    }
}
