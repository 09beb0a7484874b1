using AlphaRl.Checkpoints;
using Spectre.Console;

namespace AlphaRl.Cli;

/// <summary>Checks of output paths made before any input is read, and the warning about temporary folders that runs
/// killed outright left behind.</summary>
internal static class OutputChecks
{
    /// <summary>Throws a <see cref="UsageException"/> unless <paramref name="path"/> is a usable path: not empty, no NUL
    /// character, and (for a folder output) not inside or equal to any of <paramref name="inputs"/>.</summary>
    /// <returns>The full path.</returns>
    public static string Check(string path, string option, IEnumerable<string>? inputs = null)
    {
        if (string.IsNullOrWhiteSpace(path))
            throw new UsageException($"{option} is empty; give a path.");
        if (path.Contains('\0'))
            throw new UsageException($"{option} '{path.Replace("\0", "\\0")}' holds a NUL character.");
        string full;
        try
        {
            full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new UsageException($"{option} '{path}' is not a valid path ({e.Message}).");
        }
        // An existing output is refused later, as it always was ("already exists"); here, a new folder inside an input.
        if (Directory.Exists(full) || File.Exists(full)) return full;
        foreach (string input in inputs ?? [])
        {
            string folder = Path.TrimEndingDirectorySeparator(Path.GetFullPath(input));
            if (full == folder || full.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                throw new UsageException($"{option} '{path}' lies inside the input folder {input}; write the output elsewhere (inputs are never modified).");
        }
        return full;
    }

    /// <summary>Prints a warning for each temporary folder beside <paramref name="output"/> that a killed run left.</summary>
    public static void WarnStale(IAnsiConsole console, string output)
    {
        string? parent = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(output)));
        if (parent is null) return;
        foreach (var (folder, reason) in StagingFolder.FindStale(parent))
            console.WriteLine($"warning: {folder} is the temporary folder of a run that did not finish ({reason}); " +
                $"remove it with 'alpharl clean {parent}'.");
    }
}
