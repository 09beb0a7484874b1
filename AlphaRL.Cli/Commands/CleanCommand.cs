using System.CommandLine;
using Spectre.Console;

namespace AlphaRl.Cli;

/// <summary>The <c>clean</c> command line: removes the temporary folders of killed runs.</summary>
internal static class CleanCommand
{
    public static Command Create(IAnsiConsole console, TextWriter error)
    {
        var folder = new Argument<string>("FOLDER") { Description = "Folder holding outputs (the parent of --out)." };
        var dryRun = new Option<bool>("--dry-run") { Description = "List the stale temporary folders without removing them." };
        var command = new Command("clean", "Remove the hidden temporary folders (.NAME.alpharl-tmp-*) that runs killed outright left in a folder; folders of runs still running are kept.")
        {
            folder, dryRun,
        };
        command.SetAction(r => AlphaRLCli.Guarded(error, () =>
        {
            string path = OutputChecks.Check(r.GetRequiredValue(folder), "FOLDER");
            if (!Directory.Exists(path)) throw new UsageException($"{r.GetValue(folder)}: folder does not exist.");
            var stale = AlphaRl.Checkpoints.StagingFolder.FindStale(path);
            foreach (var (dir, reason) in stale)
            {
                if (!r.GetValue(dryRun)) Directory.Delete(dir, recursive: true);
                console.WriteLine($"{(r.GetValue(dryRun) ? "stale" : "removed")}: {dir} ({reason})");
            }
            console.WriteLine(stale.Count == 0 ? $"No stale temporary folder in {path}." : $"{stale.Count} stale temporary folder(s) {(r.GetValue(dryRun) ? "found" : "removed")}.");
        }));
        return command;
    }
}
