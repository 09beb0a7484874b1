using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using AlphaRl.TorchSharp.Session;

namespace AlphaRl.TorchSharp.State;

/// <summary>
/// The files of a saved session (docs/long-runs.md): <see cref="StateFile"/> (counters, covered matrices, the window's
/// scalars, the methods' scalars), <see cref="SettingsFile"/> (the effective settings), <see cref="JumpsFile"/> (the jump
/// history) and <see cref="TensorsFile"/> (W0, the window's vectors, the sketches, the methods' tensors).
/// </summary>
internal static class SessionStateFiles
{
    public const string Format = "alpharl-session";
    /// <summary>2: the state and the settings by part (clock, window, schedule; Snapshots, Attempts, Jumps, Guard,
    /// Coverage). Version 1 (flat) is read and migrated (<see cref="SessionStateMigration"/>).</summary>
    public const int Version = 2;
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

    public static T Read<T>(string folder, string file) => Parse<T>(Path.Combine(folder, file), ReadNode<JsonNode>(folder, file));

    /// <summary>The session document and its settings, migrated from an earlier version when needed.</summary>
    public static (SessionStateDocument Document, AlphaRLOptions Settings) ReadSession(string folder)
    {
        var state = ReadNode<JsonObject>(folder, StateFile);
        var settings = ReadNode<JsonObject>(folder, SettingsFile);
        string statePath = Path.Combine(folder, StateFile);
        string? format = (string?)(state["format"] as JsonValue);
        int version = state["version"] is JsonValue v && v.TryGetValue(out int n) ? n : 0;
        if (format != Format)
            throw new AlphaRLException($"{folder}: {StateFile} has format \"{format}\", not \"{Format}\".");
        if (version == 1)
        {
            state = SessionStateMigration.StateFromVersion1(state, statePath);
            settings = SessionStateMigration.SettingsFromVersion1(settings);
        }
        else if (version != Version)
            throw new AlphaRLException($"{folder}: saved with state format version {version}; this AlphaRL reads versions 1 and {Version}.");
        return (Parse<SessionStateDocument>(statePath, state), Parse<AlphaRLOptions>(Path.Combine(folder, SettingsFile), settings));
    }

    private static T ReadNode<T>(string folder, string file) where T : JsonNode
    {
        string path = Path.Combine(folder, file);
        if (!File.Exists(path))
            throw new AlphaRLException($"{folder}: not a saved AlphaRL session: {file} is missing.");
        try
        {
            using var stream = File.OpenRead(path);
            return JsonNode.Parse(stream) as T ?? throw new AlphaRLException($"{path}: not valid (a JSON {(typeof(T) == typeof(JsonObject) ? "object" : "value")} was expected).");
        }
        catch (JsonException e)
        {
            throw new AlphaRLException($"{path}: not valid ({e.Message}).", e);
        }
    }

    private static T Parse<T>(string path, JsonNode node)
    {
        try
        {
            return node.Deserialize<T>(Json) ?? throw new AlphaRLException($"{path}: empty.");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NotSupportedException)
        {
            throw new AlphaRLException($"{path}: not valid ({e.Message}).", e);
        }
    }
}

/// <summary>session.json: the session's counters, the covered matrices and each part's state.</summary>
internal sealed record SessionStateDocument
{
    public string Format { get; init; } = SessionStateFiles.Format;
    public int Version { get; init; } = SessionStateFiles.Version;
    public string Name { get; init; } = "";
    public DateTimeOffset SavedAt { get; init; }
    public long StepsSkipped { get; init; }
    public long Evaluations { get; init; }
    public double OverheadSeconds { get; init; }
    public string? CustomExtrapolator { get; init; }
    public bool CustomCover { get; init; }
    public List<CoveredEntry> Covered { get; init; } = [];
    public string? CoveredWeightsSha256 { get; init; }
    public ClockState Clock { get; init; } = new(null, 0, 0, false);
    public WindowState Window { get; init; } = new(0, 0, 0, [], [], []);
    public ScheduleState Schedule { get; init; } = new(0);
}

/// <summary>A covered matrix: its name, shape and dtype.</summary>
internal sealed record CoveredEntry(string Name, long[] Shape, string DType);

/// <summary>One snapshot of the window: its step and, per covered matrix in order, σ1 and ‖dW‖ (u and v are tensors).</summary>
internal sealed record SnapshotEntry(long Step, float[] Sigma, float[] UpdateNorm);

/// <summary>A jump method's scalars (its tensors are in tensors.safetensors under methods/{index}/).</summary>
internal sealed record MethodEntry(string Name, Dictionary<string, double> Scalars);
