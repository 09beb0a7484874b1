using System.Globalization;
using System.Text.Json;
using AlphaRl.Checkpoints;

namespace AlphaRl.Cli;

/// <summary>
/// The fields of a PEFT <c>adapter_config.json</c> that decide what the adapter's weights mean: the rank r, lora_alpha
/// and use_rslora (together the scale of the update scale · B A), the target modules and the modules saved whole.
/// Settings that change the merge in ways not implemented (per-module rank or alpha, DoRA, LoRA biases, transposed
/// Conv1D weights) are rejected when read, naming the setting.
/// </summary>
internal sealed record AdapterConfig(string Path, int Rank, double Alpha, bool UseRsLora, string TargetModules, string ModulesToSave, string? BaseModel)
{
    /// <summary>File name of the configuration in an adapter folder.</summary>
    public const string FileName = "adapter_config.json";

    /// <summary>File name of the adapter's weights in an adapter folder.</summary>
    public const string WeightsFileName = "adapter_model.safetensors";

    /// <summary>The factor of the update ΔW = scale · B A: alpha/√r with rsLoRA, alpha/r otherwise.</summary>
    public double Scale => UseRsLora ? Alpha / Math.Sqrt(Rank) : Alpha / Rank;

    /// <summary>Reads and checks the <see cref="FileName"/> of an adapter folder.</summary>
    /// <exception cref="CheckpointFormatException">The file is missing, not JSON, not a LoRA config, or uses a setting not supported.</exception>
    public static AdapterConfig Read(string directory)
    {
        string path = System.IO.Path.Combine(directory, FileName);
        if (!File.Exists(path)) throw new CheckpointFormatException(directory, $"holds no {FileName}.");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(path, $"is not valid JSON ({e.Message}).");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new CheckpointFormatException(path, $"must be a JSON object; it is {root.ValueKind}.");
            string peftType = root.TryGetProperty("peft_type", out var type) && type.ValueKind == JsonValueKind.String ? type.GetString()! : "(none)";
            if (peftType != "LORA")
                throw new CheckpointFormatException(path, $"has peft_type {peftType}; only LORA adapters can be read.");
            if (!root.TryGetProperty("r", out var r) || r.ValueKind != JsonValueKind.Number || !r.TryGetInt32(out int rank) || rank <= 0)
                throw new CheckpointFormatException(path, "needs 'r', the LoRA rank, as a positive integer.");
            if (!root.TryGetProperty("lora_alpha", out var a) || a.ValueKind != JsonValueKind.Number || !double.IsFinite(a.GetDouble()))
                throw new CheckpointFormatException(path, "needs 'lora_alpha' as a finite number.");
            bool rsLora = Flag(path, root, "use_rslora");
            foreach (string pattern in new[] { "rank_pattern", "alpha_pattern" })
                if (root.TryGetProperty(pattern, out var p) && p.ValueKind == JsonValueKind.Object && p.EnumerateObject().Any())
                    throw new CheckpointFormatException(path, $"sets '{pattern}' (a per-module {(pattern == "rank_pattern" ? "rank" : "alpha")}), " +
                        "which is not supported: every target module must share r and lora_alpha.");
            if (Flag(path, root, "fan_in_fan_out"))
                throw new CheckpointFormatException(path, "sets 'fan_in_fan_out' (base weights stored transposed, as GPT-2's Conv1D), which is not supported.");
            if (Flag(path, root, "use_dora"))
                throw new CheckpointFormatException(path, "sets 'use_dora' (DoRA's magnitude vectors change the merge), which is not supported.");
            if (Flag(path, root, "lora_bias"))
                throw new CheckpointFormatException(path, "sets 'lora_bias' (a bias on lora_B), which is not supported.");
            return new AdapterConfig(path, rank, a.GetDouble(), rsLora, Names(root, "target_modules"), Names(root, "modules_to_save"),
                root.TryGetProperty("base_model_name_or_path", out var b) && b.ValueKind == JsonValueKind.String ? b.GetString() : null);
        }
    }

    /// <summary>Throws unless <paramref name="other"/> (another checkpoint's config) sets r, lora_alpha, use_rslora,
    /// the target modules and the modules saved whole as this one does.</summary>
    /// <exception cref="CheckpointFormatException">A field differs; the message names it and both files.</exception>
    public void EnsureSameAs(AdapterConfig other)
    {
        foreach (var (field, mine, theirs) in new[]
        {
            ("r", Rank.ToString(CultureInfo.InvariantCulture), other.Rank.ToString(CultureInfo.InvariantCulture)),
            ("lora_alpha", Alpha.ToString(CultureInfo.InvariantCulture), other.Alpha.ToString(CultureInfo.InvariantCulture)),
            ("use_rslora", UseRsLora ? "true" : "false", other.UseRsLora ? "true" : "false"),
            ("target_modules", TargetModules, other.TargetModules),
            ("modules_to_save", ModulesToSave, other.ModulesToSave),
        })
            if (mine != theirs)
                throw new CheckpointFormatException(other.Path, $"sets {field} = {theirs}, but {Path} sets {field} = {mine}; " +
                    "every checkpoint of an adapter series must share the adapter's configuration.");
    }

    private static bool Flag(string path, JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind is JsonValueKind.Null or JsonValueKind.False) return false;
        if (value.ValueKind == JsonValueKind.True) return true;
        // lora_bias and use_dora are booleans; anything else is a setting this reader does not know.
        throw new CheckpointFormatException(path, $"'{name}' must be true or false; it is {value.GetRawText()}.");
    }

    /// <summary>A list of module names, sorted and comma-joined (a string, as PEFT allows, is kept as the regex it is;
    /// absent or null is empty), so that two configs compare by value.</summary>
    private static string Names(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value)) return "";
        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString()!,
            JsonValueKind.Array => "[" + string.Join(", ", value.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText()).Order(StringComparer.Ordinal)) + "]",
            _ => "",
        };
    }
}
