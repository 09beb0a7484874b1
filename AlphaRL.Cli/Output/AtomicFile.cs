namespace AlphaRl.Cli;

/// <summary>
/// Files written whole or not at all: into a hidden temporary file beside the target (<c>.NAME.GUID.tmp</c>, the form
/// <c>record</c> removes as a leftover), then renamed over it.
/// </summary>
internal static class AtomicFile
{
    /// <summary>A new hidden temporary name beside <paramref name="path"/>.</summary>
    public static string TemporaryFor(string path) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");

    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/>, which is given the temporary file's path.</summary>
    public static void Write(string path, Action<string> write)
    {
        string temp = TemporaryFor(path);
        try
        {
            write(temp);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }
}
