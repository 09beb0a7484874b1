using System.Text.Json;

namespace AlphaRl.Checkpoints;

/// <summary>
/// Reads names and strings of a header or index as .NET strings, turning the one case <see cref="JsonDocument"/> refuses
/// to convert (an escape of a lone UTF-16 surrogate such as <c>"\ud800"</c>, valid JSON but no Unicode text) into a
/// <see cref="CheckpointFormatException"/> naming the file.
/// </summary>
internal static class JsonText
{
    /// <summary>The name of a property.</summary>
    public static string Name(string path, JsonProperty property, string where)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException)
        {
            throw Invalid(path, where, property.Value.ValueKind == JsonValueKind.Object ? "a name" : "a key");
        }
    }

    /// <summary>The value of a string element.</summary>
    public static string String(string path, JsonElement element, string where)
    {
        try
        {
            return element.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw Invalid(path, where, "a string");
        }
    }

    private static CheckpointFormatException Invalid(string path, string where, string what) =>
        new(path, $"{where} holds {what} with an escape that is not Unicode text (a lone UTF-16 surrogate such as \\ud800); names and strings must be valid Unicode.");
}
