using Spectre.Console;

namespace AlphaRl.Cli;

/// <summary>The progress bar of the long commands (cleared when done).</summary>
internal static class ConsoleProgress
{
    /// <summary>Runs <paramref name="work"/>, which reports the units it has done, under a bar of <paramref name="total"/> units.</summary>
    public static void Run(IAnsiConsole console, string description, long total, Action<Action<long>> work) =>
        console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask(Markup.Escape(description), maxValue: Math.Max(1, total));
                work(n => task.Increment(n));
            });
}
