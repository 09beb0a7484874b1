using System.CommandLine;
using Spectre.Console;

namespace AlphaRl.Cli;

/// <summary>The <c>merge</c> command line; the work is <see cref="Shards.Merge"/>.</summary>
internal static class MergeCommand
{
    public static Command Create(IAnsiConsole console, TextWriter error, CancellationToken cancellation)
    {
        var output = new Option<string>("--out") { Description = "The output given to every 'predict --shard'; its parts OUT.part-i-of-n are merged into it.", Required = true };
        var force = new Option<bool>("--force")
        {
            Description = "Write the rank-1 prediction even when the parts' pooled fit exceeds their --fit-threshold (with a warning).",
        };
        var command = new Command("merge", "Complete the output of a sharded predict: its parts, the other tensors of the last checkpoint, the index and the config files.") { output, force };
        command.SetAction(r => AlphaRLCli.Guarded(error, () =>
        {
            string path = r.GetRequiredValue(output);
            OutputChecks.Check(path, "--out");
            var (parts, forced) = Shards.Merge(path, r.GetValue(force), cancellation);
            if (forced is not null) console.WriteLine(FitGate.ForcedWarning(forced));
            console.WriteLine($"Wrote {path} from {parts} parts.");
        }));
        return command;
    }
}
