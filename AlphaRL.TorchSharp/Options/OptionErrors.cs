using System.Globalization;

namespace AlphaRl.TorchSharp;

/// <summary>The failures of one validation, each naming the setting by its path from <see cref="AlphaRLOptions"/> and its value.</summary>
internal sealed class OptionErrors
{
    public List<string> Failures { get; } = new();

    /// <summary>Adds a failure unless <paramref name="ok"/>; returns <paramref name="ok"/>.</summary>
    public bool Require(bool ok, string setting, object? value, string expected)
    {
        if (!ok) Add(setting, value, expected);
        return ok;
    }

    public void Add(string setting, object? value, string expected) => AddShown(setting, Format(value), expected);

    /// <summary>A failure whose value is already written out (e.g. a whole list).</summary>
    public void AddShown(string setting, string shown, string expected) =>
        Failures.Add($"AlphaRLOptions.{setting} = {shown} is invalid: {expected}.");

    public static string Format(object? value) => value switch
    {
        null => "null",
        string s => $"\"{s}\"",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
