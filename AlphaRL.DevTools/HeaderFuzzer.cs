using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using AlphaRl.Checkpoints;

namespace AlphaRl.DevTools;

/// <summary>
/// Structural mutations of a valid safetensors file, made at the level of its JSON header (tensor names with escapes
/// and lone surrogates, dtypes, shapes, offsets, extra and duplicate fields, huge and negative numbers, metadata
/// oddities) and of its data (NaN, infinity and huge finite values inside a matrix), with the length prefix kept
/// consistent so that the mutant reaches the checks past the header. A share of mutants are raw byte damage instead.
/// Used by the fuzz tests and <c>alpharl-dev fuzz</c>.
/// </summary>
internal sealed class HeaderFuzzer
{
    private static readonly string[] DTypes =
        ["\"F32\"", "\"F16\"", "\"BF16\"", "\"F64\"", "\"I8\"", "\"U8\"", "\"I16\"", "\"I32\"", "\"I64\"", "\"BOOL\"", "\"F8_E4M3\"", "\"F8_E5M2\"",
         "\"bf16\"", "\"\"", "\"F32 \"", "\"\\u0046\\u0033\\u0032\"", "\"\\ud800\"", "1", "null", "[]", "{}", "true", "\"F32\\u0000\""];

    private static readonly string[] Numbers =
        ["0", "-1", "1", "-0", "2", "7", "4294967296", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "18446744073709551616",
         "1e3", "1.5", "1E400", "-1e-400", "0.0", "1e0", "100000000000000000000000000000", "\"3\"", "null", "true", "[]", "{}", "[1]"];

    private static readonly string[] Names =
        ["\"\\ud800\"", "\"\\udc00\"", "\"\\udfff\\ud800\"", "\"x.q_proj\\ud800\"", "\"\\ud83d\\ude00.q_proj.weight\"", "\"é.q_proj\"", "\"\\u0000\"",
         "\"\"", "\"__metadata__\"", "\"a/../../q_proj\"", "\"line\\nbreak.q_proj\"", "\"tab\\tq_proj\"", "\"\\\\\"", "\"\\\"\"", "\"[q_proj]\"",
         "\"\\u005f_metadata__\"", "\"q_proj \"", "\"" + new string('n', 5000) + ".q_proj\""];

    private readonly byte[] _valid;
    private readonly List<(string Name, List<(string Key, string Value)> Fields, string? Raw)> _entries = new();
    private readonly List<(string Name, SafetensorsDType DType, long Begin, long End)> _tensors = new();
    private readonly int _dataStart;

    /// <summary>Prepares mutations of <paramref name="valid"/>, a well-formed safetensors file.</summary>
    public HeaderFuzzer(byte[] valid)
    {
        _valid = valid;
        int headerLength = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(valid));
        _dataStart = 8 + headerLength;
        using var document = JsonDocument.Parse(valid.AsMemory(8, headerLength));
        foreach (var p in document.RootElement.EnumerateObject())
        {
            string name = JsonSerializer.Serialize(p.Name);
            if (p.Value.ValueKind != JsonValueKind.Object)
            {
                _entries.Add((name, new(), p.Value.GetRawText()));
                continue;
            }
            _entries.Add((name, p.Value.EnumerateObject().Select(f => (JsonSerializer.Serialize(f.Name), f.Value.GetRawText())).ToList(), null));
            if (p.Name != SafetensorsFile.MetadataKey && SafetensorsDTypes.TryParse(p.Value.GetProperty("dtype").GetString(), out var dtype))
            {
                var offsets = p.Value.GetProperty("data_offsets");
                _tensors.Add((p.Name, dtype, offsets[0].GetInt64(), offsets[1].GetInt64()));
            }
        }
    }

    /// <summary>What the last <see cref="Mutate"/> did, for failure messages.</summary>
    public string LastMutation { get; private set; } = "";

    /// <summary>A mutant: one to three structural mutations, or (one time in eight) raw byte damage.</summary>
    public byte[] Mutate(Random random)
    {
        var notes = new List<string>();
        if (random.Next(8) == 0)
        {
            var raw = RawDamage(random, notes);
            LastMutation = string.Join("; ", notes);
            return raw;
        }
        var entries = _entries.Select(e => (e.Name, e.Fields.ToList(), e.Raw)).ToList();
        var data = _valid.AsSpan(_dataStart).ToArray();
        int count = random.Next(1, 4);
        for (int i = 0; i < count; i++) MutateOnce(random, entries, ref data, notes);
        string header = "{" + string.Join(",", entries.Select(e => e.Name + ":" + (e.Raw ?? "{" + string.Join(",", e.Item2.Select(f => f.Key + ":" + f.Value)) + "}"))) + "}";
        var json = Encoding.UTF8.GetBytes(header);
        int padding = random.Next(4) == 0 ? random.Next(0, 9) : (8 - json.Length % 8) % 8;
        var bytes = new byte[8 + json.Length + padding + data.Length];
        long declared = json.Length + padding;
        if (random.Next(16) == 0)
        {
            declared += random.Next(-3, 4);
            notes.Add($"length prefix off by {declared - json.Length - padding}");
        }
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)declared);
        json.CopyTo(bytes, 8);
        bytes.AsSpan(8 + json.Length, padding).Fill((byte)' ');
        data.CopyTo(bytes, 8 + json.Length + padding);
        LastMutation = string.Join("; ", notes);
        return bytes;
    }

    private void MutateOnce(Random random, List<(string Name, List<(string Key, string Value)> Fields, string? Raw)> entries, ref byte[] data, List<string> notes)
    {
        int e = random.Next(entries.Count);
        var fields = entries[e].Fields;
        int Field(string key) => fields.FindIndex(f => f.Key == "\"" + key + "\"");
        switch (random.Next(14))
        {
            case 0: // dtype
            {
                int f = Field("dtype");
                if (f < 0) goto default;
                string dtype = DTypes[random.Next(DTypes.Length)];
                fields[f] = (fields[f].Key, dtype);
                notes.Add($"dtype of entry {e} = {dtype}");
                break;
            }
            case 1: // one dimension of the shape
            case 2:
            {
                int f = Field("shape");
                if (f < 0) goto default;
                var dims = Items(fields[f].Value);
                switch (random.Next(5))
                {
                    case 0 when dims.Count > 0: dims[random.Next(dims.Count)] = Numbers[random.Next(Numbers.Length)]; break;
                    case 1: dims.Insert(random.Next(dims.Count + 1), random.Next(3) == 0 ? Numbers[random.Next(Numbers.Length)] : "1"); break;
                    case 2 when dims.Count > 0: dims.RemoveAt(random.Next(dims.Count)); break;
                    case 3: dims.Reverse(); break;
                    default: dims = random.Next(2) == 0 ? [] : [string.Join("*", dims)]; break;
                }
                fields[f] = (fields[f].Key, "[" + string.Join(",", dims) + "]");
                notes.Add($"shape of entry {e} = {fields[f].Value}");
                break;
            }
            case 3: // offsets
            case 4:
            {
                int f = Field("data_offsets");
                if (f < 0) goto default;
                var offsets = Items(fields[f].Value);
                switch (random.Next(5))
                {
                    case 0 when offsets.Count > 0:
                    {
                        int k = random.Next(offsets.Count);
                        offsets[k] = long.TryParse(offsets[k], out long o) ? (o + random.Next(-9, 10)).ToString(System.Globalization.CultureInfo.InvariantCulture) : "0";
                        break;
                    }
                    case 1 when offsets.Count > 0: offsets[random.Next(offsets.Count)] = Numbers[random.Next(Numbers.Length)]; break;
                    case 2: offsets.Reverse(); break;
                    case 3: offsets.Add(offsets.Count > 0 ? offsets[^1] : "0"); break;
                    default: if (offsets.Count > 0) offsets.RemoveAt(0); break;
                }
                fields[f] = (fields[f].Key, "[" + string.Join(",", offsets) + "]");
                notes.Add($"data_offsets of entry {e} = {fields[f].Value}");
                break;
            }
            case 5: // the name: escapes, lone surrogates, empty, the metadata key, another tensor's name (also spelled with escapes)
            {
                string name = random.Next(3) switch
                {
                    0 => entries[random.Next(entries.Count)].Name,
                    1 => Escaped(entries[random.Next(entries.Count)].Name, random),
                    _ => Names[random.Next(Names.Length)],
                };
                entries[e] = (name, fields, entries[e].Raw);
                notes.Add($"name of entry {e} = {Short(name)}");
                break;
            }
            case 6: // an extra or duplicated field
            {
                var extra = random.Next(4) switch
                {
                    0 => ("\"extra\"", Numbers[random.Next(Numbers.Length)]),
                    1 when fields.Count > 0 => fields[random.Next(fields.Count)],
                    2 => ("\"\\ud800\"", "1"),
                    _ => ("\"nested\"", "{\"a\":[[[{\"b\":null}]]]}"),
                };
                fields.Insert(random.Next(fields.Count + 1), extra);
                notes.Add($"field {extra.Item1} added to entry {e}");
                break;
            }
            case 7 when fields.Count > 0: // a field removed
                notes.Add($"field {fields[0].Key} of entry {e} removed");
                fields.RemoveAt(random.Next(fields.Count));
                break;
            case 8: // a whole entry duplicated, removed or replaced by a non-object
                switch (random.Next(3))
                {
                    case 0: entries.Insert(random.Next(entries.Count + 1), (entries[e].Name, fields.ToList(), entries[e].Raw)); notes.Add($"entry {e} duplicated"); break;
                    case 1 when entries.Count > 1: entries.RemoveAt(e); notes.Add($"entry {e} removed"); break;
                    default: entries[e] = (entries[e].Name, fields, Numbers[random.Next(Numbers.Length)]); notes.Add($"entry {e} replaced by {entries[e].Raw}"); break;
                }
                break;
            case 9: // metadata oddities
            {
                string metadata = random.Next(7) switch
                {
                    0 => "{\"format\":1}",
                    1 => "{\"format\":\"pt\",\"format\":\"pt\"}",
                    2 => "{\"\\ud800\":\"x\"}",
                    3 => "{\"format\":\"\\udc00\"}",
                    4 => "[\"format\"]",
                    5 => "{\"k\":\"" + new string('v', 20000) + "\"}",
                    _ => "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}",
                };
                int m = entries.FindIndex(x => x.Name == "\"" + SafetensorsFile.MetadataKey + "\"");
                if (m >= 0 && random.Next(3) > 0) entries[m] = (entries[m].Name, [], metadata);
                else entries.Insert(random.Next(entries.Count + 1), ("\"" + SafetensorsFile.MetadataKey + "\"", [], metadata));
                notes.Add($"metadata = {Short(metadata)}");
                break;
            }
            case 10: // a new entry claiming another tensor's bytes, or bytes past the end
            {
                if (_tensors.Count == 0) goto default;
                var t = _tensors[random.Next(_tensors.Count)];
                long begin = random.Next(2) == 0 ? t.Begin : data.Length, end = begin + (t.End - t.Begin);
                entries.Add(("\"fuzz.q_proj.weight\"", [("\"dtype\"", "\"" + t.DType + "\""), ("\"shape\"", $"[1,{(t.End - t.Begin) / t.DType.Size()}]"),
                    ("\"data_offsets\"", $"[{begin},{end}]")], null));
                notes.Add($"entry added over [{begin}, {end}]");
                break;
            }
            case 11: // data: NaN, infinity, huge finite or subnormal values inside a float tensor
            case 12:
            {
                var floats = _tensors.Where(x => x.DType.IsFloat() && x.End > x.Begin).ToList();
                if (floats.Count == 0) goto default;
                var t = floats[random.Next(floats.Count)];
                float value = random.Next(7) switch
                {
                    0 => float.NaN,
                    1 => float.PositiveInfinity,
                    2 => float.NegativeInfinity,
                    3 => 1e16f,
                    4 => -3e38f,
                    5 => 1e-40f,
                    _ => 6.5e4f,
                };
                int size = t.DType.Size();
                long elements = (t.End - t.Begin) / size;
                int n = random.Next(1, 4);
                for (int k = 0; k < n; k++)
                {
                    long at = t.Begin + random.NextInt64(elements) * size;
                    var encoded = new byte[size];
                    FloatCodec.Encode([value], t.DType, encoded);
                    if (at + size <= data.Length) encoded.CopyTo(data.AsSpan((int)at)); // an earlier mutation may have shrunk the data
                }
                notes.Add($"{n} value(s) {value} written into '{t.Name}'");
                break;
            }
            case 13: // data section grown or shrunk
            {
                int delta = random.Next(-8, 9);
                Array.Resize(ref data, Math.Max(0, data.Length + delta));
                notes.Add($"data section resized by {delta}");
                break;
            }
            default:
                entries[e] = (entries[e].Name, fields, Numbers[random.Next(Numbers.Length)]);
                notes.Add($"entry {e} replaced by a number");
                break;
        }
    }

    private byte[] RawDamage(Random random, List<string> notes)
    {
        var bytes = (byte[])_valid.Clone();
        switch (random.Next(4))
        {
            case 0:
                random.NextBytes(bytes.AsSpan(8, Math.Min(bytes.Length - 8, random.Next(1, 64))));
                notes.Add("random bytes over the header start");
                return bytes;
            case 1:
            {
                var noise = new byte[random.Next(0, 256)];
                random.NextBytes(noise);
                notes.Add($"{noise.Length} random bytes");
                return noise;
            }
            case 2:
                for (int i = random.Next(1, 16); i > 0; i--) bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                notes.Add("random bytes at random places");
                return bytes;
            default:
                notes.Add("truncated");
                return bytes[..random.Next(bytes.Length)];
        }
    }

    /// <summary>The items of a JSON array as raw text; a value an earlier mutation left malformed or not an array is one item.</summary>
    private static List<string> Items(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.ValueKind == JsonValueKind.Array ? document.RootElement.EnumerateArray().Select(d => d.GetRawText()).ToList() : [json];
        }
        catch (JsonException)
        {
            return [json];
        }
    }

    /// <summary>The same name spelled with \u escapes for some of its characters (equal as a string, different as bytes).</summary>
    private static string Escaped(string quoted, Random random)
    {
        var sb = new StringBuilder("\"");
        foreach (char c in quoted[1..^1])
            sb.Append(random.Next(3) == 0 && char.IsAsciiLetterOrDigit(c) ? $"\\u{(int)c:x4}" : c.ToString());
        return sb.Append('"').ToString();
    }

    private static string Short(string s) => s.Length > 60 ? s[..60] + "…" : s;
}
