using System.CommandLine;
using Spectre.Console;

namespace AlphaRl.Cli;

/// <summary>The <c>alpharl</c> command line: <c>predict</c>, <c>analyze</c>, <c>record</c>, <c>watch</c>, <c>merge</c> and <c>clean</c>.</summary>
internal static class AlphaRLCli
{
    public const int Ok = 0, InputError = 1, UsageError = 2, Cancelled = 130;

    /// <summary>Parses and runs a command line; returns the process exit code.</summary>
    /// <param name="args">The arguments.</param>
    /// <param name="console">Where tables and progress go (standard output when null).</param>
    /// <param name="error">Where errors go (standard error when null).</param>
    public static int Run(string[] args, IAnsiConsole? console = null, TextWriter? error = null) => Run(args, Build, console, error);

    /// <summary>Parses and runs a command line of the commands <paramref name="build"/> makes (<c>alpharl</c>'s, or the
    /// development tool's), with <c>alpharl</c>'s console, cancellation and exit codes; returns the process exit code.</summary>
    internal static int Run(string[] args, Func<IAnsiConsole, TextWriter, CancellationToken, Command> build, IAnsiConsole? console, TextWriter? error)
    {
        if (console is null)
        {
            console = AnsiConsole.Console;
            // Redirected output has no terminal width; keep long tensor names on one line in logs.
            if (Console.IsOutputRedirected) console.Profile.Width = Math.Max(console.Profile.Width, 320);
        }
        error ??= Console.Error;
        // Ctrl+C stops at the next tensor, so that the writer can remove its temporary folder before the process ends.
        using var cancellation = new CancellationTokenSource();
        var root = build(console, error, cancellation.Token);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var e in parsed.Errors) error.WriteLine($"error: {e.Message}");
            error.WriteLine($"Run '{root.Name} --help' or '{root.Name} COMMAND --help' for usage.");
            return UsageError;
        }
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cancellation.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            return parsed.Invoke(new InvocationConfiguration { Error = error, EnableDefaultExceptionHandler = false });
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    private static Command Build(IAnsiConsole console, TextWriter error, CancellationToken cancellation)
    {
        // A plain command named like the tool: RootCommand would take the assembly's name (AlphaRL.Cli) for its usage line.
        var root = new Command("alpharl", "Rank-1 trajectory analysis and extrapolation of RL checkpoints (Hugging Face safetensors).")
        {
            new System.CommandLine.Help.HelpOption(),
            new VersionOption(),
        };
        root.Subcommands.Add(PredictCommand.Create(console, error, cancellation));
        root.Subcommands.Add(AnalyzeCommand.Create(console, error, cancellation));
        root.Subcommands.Add(CleanCommand.Create(console, error));
        root.Subcommands.Add(RecordCommand.Create(console, error, cancellation));
        root.Subcommands.Add(WatchCommand.Create(console, error, cancellation));
        root.Subcommands.Add(MergeCommand.Create(console, error, cancellation));
        return root;
    }

    /// <summary>Runs a command, turning the errors a user can cause into a message and an exit code.</summary>
    internal static int Guarded(TextWriter error, Action work)
    {
        try
        {
            work();
            return Ok;
        }
        catch (UsageException e)
        {
            error.WriteLine($"error: {e.Message}");
            return UsageError;
        }
        catch (OperationCanceledException)
        {
            error.WriteLine("error: cancelled; nothing was written.");
            return Cancelled;
        }
        catch (Exception e) when (e is AlphaRLException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {e.Message}");
            return InputError;
        }
    }
}
