using System.CommandLine;
using Spectre.Console;

namespace AlphaRl.Cli;

/// <summary>The <c>merge</c> command line; the work is <see cref="Shards.Merge"/>.</summary>
internal static class MergeCommand
{
    public static Command Create(IAnsiConsole console, TextWriter error, CancellationToken cancellation)
    {
        var output = new Option<string>("--out") { Description = "The output given to every 'predict --shard'; its parts OUT.part-i-of-n are merged into it.", Required = true };
        var command = new Command("merge", "Complete the output of a sharded predict: its parts, the other tensors of the last checkpoint, the index and the config files.") { output };
        command.SetAction(r => AlphaRLCli.Guarded(error, () =>
        {
            string path = r.GetRequiredValue(output);
            OutputChecks.Check(path, "--out");
            int parts = Shards.Merge(path, cancellation);
            console.WriteLine($"Wrote {path} from {parts} parts.");
        }));
        return command;
    }
}
