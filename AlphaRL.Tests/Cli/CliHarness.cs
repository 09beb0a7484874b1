using AlphaRl.Cli;
using AlphaRl.DevTools;
using Spectre.Console;

namespace AlphaRl.Tests.Cli;

/// <summary>Runs the <c>alpharl</c> command line in-process, capturing what it prints.</summary>
internal static class CliHarness
{
    public static (int Exit, string Output, string Error) Run(params string[] args) => Run(args, (a, console, error) => AlphaRLCli.Run(a, console, error));

    /// <summary>Runs the development tool <c>alpharl-dev</c> (AlphaRL.DevTools) the same way.</summary>
    public static (int Exit, string Output, string Error) RunDevTools(params string[] args) => Run(args, DevToolsCli.Run);

    private static (int Exit, string Output, string Error) Run(string[] args, Func<string[], IAnsiConsole, TextWriter, int> run)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        console.Profile.Width = 200;
        int exit = run(args, console, error);
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>predict arguments for a series written by <see cref="SyntheticSeries.Write"/> under <paramref name="root"/>.</summary>
    public static string[] PredictArgs(string root, IEnumerable<long> steps, long target, string output, params string[] extra) =>
        [
            "predict", "--base", SyntheticSeries.Folder(root, 0),
            .. steps.SelectMany(s => new[] { "--checkpoint", $"{s}:{SyntheticSeries.Folder(root, s)}" }),
            "--target-step", target.ToString(), "--out", output, .. extra,
        ];
}
