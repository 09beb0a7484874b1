using System.CommandLine;
using AlphaRl.Cli;
using Spectre.Console;

namespace AlphaRl.DevTools;

/// <summary>The <c>alpharl-dev</c> command line: <c>bench-offline</c>, <c>fuzz</c>, <c>hook-series</c> and <c>hook-score</c>,
/// the development tools of <c>alpharl</c> (not shipped with it).</summary>
internal static class DevToolsCli
{
    /// <summary>Parses and runs a command line; returns the process exit code (as <c>alpharl</c>'s).</summary>
    /// <param name="args">The arguments.</param>
    /// <param name="console">Where tables and progress go (standard output when null).</param>
    /// <param name="error">Where errors go (standard error when null).</param>
    public static int Run(string[] args, IAnsiConsole? console = null, TextWriter? error = null) => AlphaRLCli.Run(args, Build, console, error);

    private static Command Build(IAnsiConsole console, TextWriter error, CancellationToken cancellation) =>
        new("alpharl-dev", "Development tools of alpharl: its offline benchmark on a synthetic series, its structural fuzz, and the hook's own series and guard score to compare watch with.")
        {
            new System.CommandLine.Help.HelpOption(),
            BenchOffline.Command(console, error),
            CliFuzz.Command(console, error),
            HookCommands.Series(console, error),
            HookCommands.Score(console, error),
        };
}
