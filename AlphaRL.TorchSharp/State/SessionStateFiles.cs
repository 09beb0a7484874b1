using System.Text.Json;
using System.Text.Json.Serialization;

namespace AlphaRl.TorchSharp.State;

/// <summary>
/// The files of a saved session (docs/long-runs.md): <see cref="StateFile"/> (counters, covered matrices, the window's
/// scalars, the methods' scalars), <see cref="SettingsFile"/> (the effective settings), <see cref="JumpsFile"/> (the jump
/// history) and <see cref="TensorsFile"/> (W0, the window's vectors, the sketches, the methods' tensors).
/// </summary>
internal static class SessionStateFiles
{
    public const string Format = "alpharl-session";
    public const int Version = 1;
    public const string StateFile = "session.json";
    public const string SettingsFile = "settings.json";
    public const string JumpsFile = "jumps.json";
    public const string TensorsFile = "tensors.safetensors";

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    public static void Write<T>(string path, T value)
    {
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        JsonSerializer.Serialize(stream, value, Json);
        stream.Flush(flushToDisk: true);
    }

    public static T Read<T>(string folder, string file)
    {
        string path = Path.Combine(folder, file);
        if (!File.Exists(path))
            throw new AlphaRlException($"{folder}: not a saved AlphaRL session: {file} is missing.");
        try
        {
            using var stream = File.OpenRead(path);
            return JsonSerializer.Deserialize<T>(stream, Json) ?? throw new AlphaRlException($"{path}: empty.");
        }
        catch (JsonException e)
        {
            throw new AlphaRlException($"{path}: not valid ({e.Message}).", e);
        }
    }
}

/// <summary>session.json.</summary>
internal sealed record SessionStateDocument
{
    public string Format { get; init; } = SessionStateFiles.Format;
    public int Version { get; init; } = SessionStateFiles.Version;
    public string Name { get; init; } = "";
    public DateTimeOffset SavedAt { get; init; }
    public long? StartStep { get; init; }
    public long LastStep { get; init; }
    public long StepsSkipped { get; init; }
    public long WindowStartTrained { get; init; }
    public long WindowStartEffective { get; init; }
    public int SnapshotsSinceAttempt { get; init; }
    public long Evaluations { get; init; }
    public double OverheadSeconds { get; init; }
    public bool MissedSnapshotWarned { get; init; }
    public string? CustomExtrapolator { get; init; }
    public bool CustomCover { get; init; }
    public List<CoveredEntry> Covered { get; init; } = [];
    public string? CoveredWeightsSha256 { get; init; }
    public List<SnapshotEntry> Window { get; init; } = [];
    public List<long> SketchSteps { get; init; } = [];
    public List<MethodEntry> Methods { get; init; } = [];
}

/// <summary>A covered matrix: its name, shape and dtype.</summary>
internal sealed record CoveredEntry(string Name, long[] Shape, string DType);

/// <summary>One snapshot of the window: its step and, per covered matrix in order, σ1 and ‖dW‖ (u and v are tensors).</summary>
internal sealed record SnapshotEntry(long Step, float[] Sigma, float[] UpdateNorm);

/// <summary>A jump method's scalars (its tensors are in tensors.safetensors under methods/{index}/).</summary>
internal sealed record MethodEntry(string Name, Dictionary<string, double> Scalars);
