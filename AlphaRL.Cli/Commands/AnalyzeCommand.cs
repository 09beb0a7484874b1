using System.CommandLine;
using Spectre.Console;

namespace AlphaRl.Cli;

/// <summary>The <c>analyze</c> command line; the work is <see cref="Analyze"/>.</summary>
internal static class AnalyzeCommand
{
    public static Command Create(IAnsiConsole console, TextWriter error, CancellationToken cancellation)
    {
        var series = new SeriesArguments();
        var rank = new Option<int>("--rank") { Description = "k of the rank-k reconstruction.", DefaultValueFactory = _ => 1 };
        var step = new Option<long?>("--reconstruct-step") { Description = "Checkpoint step whose update is reconstructed." };
        var output = new Option<string?>("--reconstruct-out") { Description = "Write W0 + rescaled rank-k dW of --reconstruct-step to this folder (must not exist)." };
        var command = new Command("analyze", "Report per covered matrix the rank-1 energy share and the out-of-sample error of the line fit; optionally write a rank-k reconstruction.");
        series.AddTo(command);
        command.Options.Add(rank);
        command.Options.Add(step);
        command.Options.Add(output);
        command.SetAction(r => AlphaRLCli.Guarded(error, () => Analyze.Run(new AnalyzeOptions(
            series.Read(r), r.GetValue(series.Json), r.GetValue(rank), r.GetValue(step), r.GetValue(output)), console, cancellation)));
        return command;
    }
}
