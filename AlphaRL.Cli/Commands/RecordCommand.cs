using System.CommandLine;
using Spectre.Console;

namespace AlphaRl.Cli;

/// <summary>The <c>record</c> command line; the work is <see cref="SnapshotStore.Record"/>.</summary>
internal static class RecordCommand
{
    public static Command Create(IAnsiConsole console, TextWriter error, CancellationToken cancellation)
    {
        var checkpoint = new Argument<string>("CHECKPOINT") { Description = "Checkpoint folder to record (model.safetensors or an index and its shards)." };
        var step = new Option<long?>("--step") { Description = "Its training step; by default read from the folder name (global_step_N, checkpoint-N, step_N, step-N)." };
        var store = new Option<string>("--store") { Description = "Folder of the snapshot store (created by the first record).", Required = true };
        var baseDir = new Option<string?>("--base") { Description = "Folder of W0; needed for the first record, then taken from the store." };
        var baseStep = new Option<long?>("--base-step") { Description = "Training step of the base (default 0)." };
        var include = new Option<string[]>("--include") { Description = "Regex of covered matrix names (first record only; later ones must agree)." };
        var exclude = new Option<string[]>("--exclude") { Description = "Regex of matrix names to leave out (first record only)." };
        var velocity = new Option<string?>("--velocity")
        {
            Description = "on (default for a new store): also keep the velocity's running sums (mean and co-moment per covered weight, 8 bytes each), " +
                "so that 'predict --store --method velocity' and 'watch' use the hook's default method; off: rank-1 snapshots only. First record only.",
        };
        velocity.AcceptOnlyFromAmong("on", "off");
        var command = new Command("record", "Record one checkpoint's rank-1 snapshots (s1, u1, v1, ‖dW‖ per covered matrix) and the velocity's running sums " +
            "into a snapshot store, so that each checkpoint is read once; recording the same checkpoint again does nothing.")
        {
            checkpoint, step, store, baseDir, baseStep, include, exclude, velocity,
        };
        command.SetAction(r => AlphaRLCli.Guarded(error, () =>
        {
            string folder = r.GetRequiredValue(checkpoint);
            OutputChecks.Check(folder, "CHECKPOINT");
            long at = r.GetValue(step) ?? SnapshotStore.StepOf(folder)
                ?? throw new UsageException($"The step of {folder} cannot be read from its name; give --step.");
            string storeDir = r.GetRequiredValue(store);
            OutputChecks.Check(storeDir, "--store", [folder]);
            var includes = r.GetValue(include) ?? [];
            var excludes = r.GetValue(exclude) ?? [];
            var selection = includes.Length + excludes.Length > 0 ? new MatrixSelection(includes, excludes) : null;
            var (recorded, outcome) = SnapshotStore.Record(storeDir, folder, at, r.GetValue(baseDir), r.GetValue(baseStep), selection, cancellation,
                r.GetValue(velocity) is { } v ? v == "on" : null);
            console.WriteLine(outcome == SnapshotStore.RecordOutcome.AlreadyRecorded
                ? $"Step {at} is already recorded in {storeDir} from these files; nothing to do."
                : $"Recorded step {at} ({recorded.Manifest.Matrices.Count} covered matrices) from {folder} into {storeDir}; " +
                  $"steps recorded: {string.Join(", ", recorded.Manifest.Steps.Select(s => s.Step))}.");
        }));
        return command;
    }
}
