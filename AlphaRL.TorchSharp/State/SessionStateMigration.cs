using System.Text.Json.Nodes;

namespace AlphaRl.TorchSharp.State;

/// <summary>
/// Reads sessions saved in state format version 1, where the settings and the session's state were flat: each value
/// moves to its part (docs/migration.md lists the settings' new names). The tensors file did not change.
/// </summary>
internal static class SessionStateMigration
{
    /// <summary>Flat version-1 setting -> (group, name in the group).</summary>
    private static readonly Dictionary<string, (string Group, string Name)> Settings = new(StringComparer.Ordinal)
    {
        ["startStep"] = ("snapshots", "startStep"),
        ["snapshotInterval"] = ("snapshots", "interval"),
        ["maxSnapshots"] = ("snapshots", "max"),
        ["keepBaseOnCpu"] = ("snapshots", "keepBaseOnCpu"),
        ["powerIteration"] = ("snapshots", "powerIteration"),
        ["minSnapshots"] = ("attempts", "minSnapshots"),
        ["fitThreshold"] = ("attempts", "fitThreshold"),
        ["holdOutFraction"] = ("attempts", "holdOutFraction"),
        ["schedule"] = ("attempts", "schedule"),
        ["maxJumps"] = ("attempts", "maxJumps"),
        ["skipWhenBending"] = ("attempts", "skipWhenBending"),
        ["minVelocityCosine"] = ("attempts", "minVelocityCosine"),
        ["minStepNormTrend"] = ("attempts", "minStepNormTrend"),
        ["methods"] = ("jumps", "methods"),
        ["jumpLengths"] = ("jumps", "lengths"),
        ["targetStep"] = ("jumps", "targetStep"),
        ["maxEvaluationsPerWindow"] = ("jumps", "maxEvaluations"),
        ["guardTolerance"] = ("guard", "tolerance"),
        ["guardNoiseZ"] = ("guard", "noiseZ"),
        ["guardFloors"] = ("guard", "floors"),
        ["keepBackupOnCpu"] = ("guard", "keepBackupOnCpu"),
        ["includePatterns"] = ("coverage", "include"),
        ["excludePatterns"] = ("coverage", "exclude"),
    };

    public static JsonObject SettingsFromVersion1(JsonObject flat)
    {
        var grouped = new JsonObject();
        JsonObject Group(string name) => grouped[name] as JsonObject ?? (JsonObject)(grouped[name] = new JsonObject());
        foreach (var (key, value) in flat.ToList())
            if (Settings.TryGetValue(key, out var to)) Group(to.Group)[to.Name] = value?.DeepClone();
        // The rank-1 method's form and treatment of uncovered tensors had a session-wide default in version 1; each
        // rank-1 method now carries its own.
        if (grouped["jumps"]?["methods"] is JsonArray methods)
            foreach (var method in methods.OfType<JsonObject>().Where(m => (string?)m["method"] == "rank1"))
            {
                if (method["form"] is null) method["form"] = flat["jumpForm"]?.DeepClone() ?? "Increment";
                if (method["uncovered"] is null) method["uncovered"] = flat["uncovered"]?.DeepClone() ?? "Keep";
            }
        return grouped;
    }

    public static JsonObject StateFromVersion1(JsonObject flat, string path)
    {
        var methods = flat["methods"] as JsonArray ?? [];
        // Version 1 kept the window's start, last step and count in every method (all equal); they are the window's now.
        var first = methods.FirstOrDefault()?["scalars"] as JsonObject
            ?? throw new AlphaRLException($"{path}: a version-1 session state without a jump method's scalars cannot be migrated.");
        double Scalar(string key) => first[key]?.GetValue<double>() ?? throw new AlphaRLException($"{path}: the jump method's scalars have no '{key}'.");
        JsonNode? Take(string key) => flat[key]?.DeepClone();
        return new JsonObject
        {
            ["format"] = Take("format"),
            ["version"] = SessionStateFiles.Version,
            ["name"] = Take("name"),
            ["savedAt"] = Take("savedAt"),
            ["stepsSkipped"] = Take("stepsSkipped"),
            ["evaluations"] = Take("evaluations"),
            ["overheadSeconds"] = Take("overheadSeconds"),
            ["customExtrapolator"] = Take("customExtrapolator"),
            ["customCover"] = Take("customCover"),
            ["covered"] = Take("covered"),
            ["coveredWeightsSha256"] = Take("coveredWeightsSha256"),
            ["clock"] = new JsonObject
            {
                ["startStep"] = Take("startStep"),
                ["lastStep"] = Take("lastStep"),
                ["windowStartTrained"] = Take("windowStartTrained"),
                ["missedSnapshotWarned"] = Take("missedSnapshotWarned"),
            },
            ["window"] = new JsonObject
            {
                ["start"] = Take("windowStartEffective"),
                ["last"] = (long)Scalar("lastStep"),
                ["observed"] = (int)Scalar("observed"),
                ["snapshots"] = Take("window"),
                ["sketchSteps"] = Take("sketchSteps"),
                ["methods"] = methods.DeepClone(),
            },
            ["schedule"] = new JsonObject { ["snapshotsSinceAttempt"] = Take("snapshotsSinceAttempt") },
        };
    }
}
