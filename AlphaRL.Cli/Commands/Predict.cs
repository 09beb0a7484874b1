using System.Globalization;
using AlphaRl.Checkpoints;
using AlphaRl.Extrapolation;
using AlphaRl.Jumps;
using Spectre.Console;

namespace AlphaRl.Cli;

/// <summary><c>predict</c>: the checkpoint predicted for a target step, or candidates for several jump lengths (scored,
/// the best kept, with <c>--score-command</c>), or one shard of them. Independent of the command-line parser, so that
/// tests and <c>watch</c> call it directly.</summary>
internal static class Predict
{
    public static SeriesReport Run(PredictOptions options, IAnsiConsole console, CancellationToken cancellation = default)
    {
        if (AdapterSeries.Holds(options.Series)) return LoraPredict.Run(options, console, cancellation);
        if (options.MergeInto is not null)
            throw new UsageException($"--merge-into applies to a series of LoRA adapter folders (holding {AdapterConfig.FileName}); the checkpoints given are full checkpoints.");
        bool rank1 = options.Method == JumpMethod.Rank1;
        bool scoring = options.ScoreCommand is not null;
        CheckPredictUsage(options);
        var extrapolator = rank1 ? options.Series.Extrapolator() : null;
        bool basePoint = rank1 && options.Series.UseBasePoint;
        if (rank1)
        {
            int points = options.Series.Checkpoints.Count + (basePoint ? 1 : 0);
            if (points < LineExtrapolator.MinimumSnapshots)
                throw new UsageException($"predict needs at least {LineExtrapolator.MinimumSnapshots} points to fit and judge a line; " +
                    $"{options.Series.Checkpoints.Count} checkpoint(s) given" + (basePoint ? " plus the base." : " and --base-point no."));
        }
        else if (options.Method == JumpMethod.Velocity && options.Series.Checkpoints.Count < 2)
            throw new UsageException($"--method velocity needs at least two checkpoints (a slope needs two distinct steps); {options.Series.Checkpoints.Count} given.");
        if (options.Series.Store is { } store && options.Method == JumpMethod.Velocity)
        {
            if (store.Manifest.Velocity is null)
                throw new UsageException($"--method velocity from {store.Directory}: the store keeps no velocity sums (recorded with --velocity off, or by an older alpharl); " +
                    "record the checkpoints into a new store, or run it on the series (--base and --checkpoint).");
            if (options.AllTensors)
                throw new UsageException("--all-tensors from a snapshot store: the store keeps the velocity of the covered matrices only; run it on the series (--base and --checkpoint).");
        }
        OutputChecks.Check(options.Out, "--out", options.Series.Checkpoints.Select(c => c.Directory).Prepend(options.Series.Base));
        if (options.Json is not null) OutputChecks.Check(options.Json, "--json");
        using var series = options.Series.Open();
        long first = options.WindowStart ?? series.Steps[0], last = series.Steps[^1];
        var candidates = Candidate.Plan(options.Lengths, options.TargetStep, first, last, scoring);
        WarnFarTarget(console, candidates, series.BaseStep, first, last);
        OutputChecks.WarnStale(console, options.Out);
        bool single = candidates.Count == 1;
        // A grid (or a scored pair) is written as candidate folders; a plain --target-step writes --out itself, as always.
        bool grid = options.Lengths is not null || scoring;

        var linearSet = new HashSet<string>(rank1 ? [] : series.Covered, StringComparer.Ordinal);
        if (!rank1 && options.AllTensors) linearSet.UnionWith(series.UncoveredFloatTensors());
        // With --shard, the tensors this part computes (the others are left to the other parts).
        var mine = options.Shard?.Select(rank1 ? series.Covered : linearSet);
        using var builder = rank1 ? new TrajectoryBuilder(series, extrapolator!, basePoint) : null;
        // The covered matrices in the order the writer asks for them (shard by shard, tensor by tensor).
        builder?.ReadAhead(series.Last.Shards.SelectMany(s => s.Tensors).Select(t => t.Name)
            .Where(n => series.CoveredSet.Contains(n) && (mine is null || mine.Contains(n))).ToList(),
            readBase: Rank1Jump.StartsFromBase(options.Form), readLast: true);
        using var sumsFile = !rank1 && options.Method == JumpMethod.Velocity && options.Series.Store is { Manifest.Velocity: { } v } s
            ? StoredVelocity.Open(s.Directory, v, s.Manifest.Matrices) : null;
        var sums = sumsFile is null ? null : new StoredSums(sumsFile, StoredVelocity.Clock(options.Series.Store!.Manifest.Velocity!, options.Series.Store.Directory));
        if (sums is { Clock.HasSlope: false })
            throw new UsageException($"--method velocity from {options.Series.Store!.Directory}: the window's velocity has {sums.Clock.Count} checkpoint(s) (after leaving out the first {options.Series.Store.Manifest.Velocity!.Skip}); a slope needs two at distinct steps.");
        var linear = rank1 ? null : new LinearJumpWriter(series, options.Method, candidates, first, sums);
        var results = new List<MatrixTrajectory>();
        // The fit gate judges once every rank-1 matrix of this output is fitted: the writers stage everything and drop it
        // on an error, so a refusal leaves nothing, and it comes before the remaining tensors are written. A part of a
        // sharded prediction sees only its own matrices: it hands its evidence to merge, which judges them all.
        int gateAt = rank1 && options.Shard is null && candidates.Any(c => !c.NoJump) ? series.Covered.Count : -1;
        string? forced = null;
        Memory<float> scratch = default;
        Memory<ushort> bits = default;
        static AlphaRLException Overflow(long target, string name) =>
            new($"The prediction for step {target} of tensor '{name}' overflows BF16 (a weight beyond about ±3.39e38); choose a nearer --target-step. Nothing was written.");
        void WriteTensor(CheckpointTensor tensor, IReadOnlyList<Stream> streams)
        {
            string name = tensor.Info.Name;
            if (rank1 && series.CoveredSet.Contains(name))
            {
                var m = builder!.Process(name, readBase: Rank1Jump.StartsFromBase(options.Form), readLast: true);
                results.Add(m);
                if (results.Count == gateAt)
                    forced = FitGate.Enforce(GateEvidence.Of(results, series.BaseStep, options.Series.Checkpoints), options.FitThreshold, options.Force,
                        "pass --force to write the prediction anyway");
                var fit = m.Fit!;
                var reference = Rank1Jump.StartsFromBase(options.Form) ? builder.Base : builder.Last;
                for (int k = 0; k < candidates.Count; k++)
                {
                    if (candidates[k].NoJump)
                    {
                        tensor.File.CopyRawTo(tensor.Info, streams[k]);
                        continue;
                    }
                    var c = Rank1Jump.Coefficients(fit, extrapolator!.Predict(fit, candidates[k].TargetStep), options.Form);
                    if (reference.IsBFloat16 && tensor.Info.DType == SafetensorsDType.BF16)
                    {
                        // bf16 in, bf16 out: each weight is widened, moved and rounded in one pass, with no float copy.
                        if (bits.Length < reference.Bits.Length) bits = HugePages.Allocate<ushort>(reference.Bits.Length);
                        var output = bits.Span[..reference.Bits.Length];
                        if (!Rank1Jump.ApplyBFloat16(reference.Bits, output, m.Rows, m.Cols, c, fit.LastV))
                            throw Overflow(candidates[k].TargetStep, name);
                        streams[k].Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(output));
                        continue;
                    }
                    // One candidate jumps in place, as predict always has; several start each from a copy of the reference.
                    var weights = reference.Floats;
                    if (!single)
                    {
                        if (scratch.Length < weights.Length) scratch = HugePages.Allocate<float>(weights.Length);
                        var copy = scratch.Span[..weights.Length];
                        weights.CopyTo(copy);
                        weights = copy;
                    }
                    Rank1Jump.Apply(weights, m.Rows, m.Cols, c, fit.LastV);
                    OutputRange.Ensure(weights, tensor.Info.DType, name, candidates[k].TargetStep);
                    SafetensorsFile.WriteFloats(streams[k], weights, tensor.Info.DType);
                }
            }
            else if (linearSet.Contains(name))
            {
                linear!.Write(tensor, streams);
            }
            else
            {
                Finite.EnsureStored(tensor, $"at step {last}");
                foreach (var stream in streams) tensor.File.CopyRawTo(tensor.Info, stream);
            }
        }

        long total = series.Last.Shards.Sum(s => s.DataLength) * candidates.Count;
        string description = $"predicting step {candidates[0].TargetStep}";
        CandidateGrid? written = null;
        if (options.Shard is { } shard)
        {
            var manifest = new PartManifest(shard.Index, shard.Count, Path.GetFullPath(series.Last.Directory), SnapshotStore.Fingerprint(series.Last),
                candidates[0].TargetStep, $"{MethodName(options.Method)} {FormName(options.Form)} {options.Series.Method} all-tensors={options.AllTensors}", [])
                { FitThreshold = options.FitThreshold, Force = options.Force };
            long part = series.Last.TensorNames.Where(mine!.Contains).Sum(n => series.Last.Tensor(n).Info.ByteLength);
            ConsoleProgress.Run(console, $"{description}, part {shard.Index}/{shard.Count}", part, advance =>
                Shards.WritePart(shard.PartFolder(options.Out), series.Last, mine,
                    () => manifest with { Fit = rank1 ? GateEvidence.Of(results, series.BaseStep, options.Series.Checkpoints) : null }, (tensor, stream) =>
                {
                    WriteTensor(tensor, [stream]);
                    advance(tensor.Info.ByteLength);
                }, cancellation));
        }
        else if (!grid)
        {
            ConsoleProgress.Run(console, description, total, advance =>
                CheckpointWriter.Write(options.Out, series.Last, (tensor, stream) =>
                {
                    WriteTensor(tensor, [stream]);
                    advance(tensor.Info.ByteLength);
                }, cancellation));
        }
        else
        {
            written = CandidateGrid.Write(options, candidates, total, console, (folders, advance) =>
                CheckpointWriter.WriteInto(folders, series.Last, (tensor, streams) =>
                {
                    WriteTensor(tensor, streams);
                    advance(tensor.Info.ByteLength * streams.Count);
                }, cancellation), cancellation);
        }

        var report = Report.Build("predict", options.Series, series, results, basePoint, options.Lengths is null ? options.TargetStep : null, rank1 ? FormName(options.Form) : null) with
        {
            Jump = MethodName(options.Method),
            WindowLength = last - first,
            AllTensors = rank1 ? null : options.AllTensors,
            Tensors = linear?.Reports,
            ScoreCommand = options.ScoreCommand,
            Candidates = written?.Reports(),
        };
        if (!rank1) report = report with { Method = MethodName(options.Method), Summary = null, Matrices = [] };
        Report.Render(console, report);
        if (forced is not null) console.WriteLine(FitGate.ForcedWarning(forced));
        string what = options.Method switch
        {
            JumpMethod.Rank1 => $"{FormName(options.Form)} form",
            JumpMethod.Velocity => "velocity: W_e + (T − e)·b",
            _ => "direction: W_e + (T − e)/(e − base)·(W_e − W0)",
        };
        string from = $"from steps {string.Join(", ", report.Steps)}";
        if (options.Shard is { } shardWritten)
            console.WriteLine($"Wrote part {shardWritten.Index}/{shardWritten.Count} of {options.Out} ({results.Count + (linear?.Reports.Count ?? 0)} tensors) to {shardWritten.PartFolder(options.Out)}: " +
                $"step {options.TargetStep} predicted {from} ({what}). When every part is written, run 'alpharl merge --out {options.Out}', which judges the fit of all parts together.");
        else if (written is null)
            console.WriteLine($"Wrote {options.Out}: step {options.TargetStep} predicted {from} ({what}).");
        else
            written.Describe(console, report.Candidates!, options.Out, first, last, what, from);
        if (options.Json is not null) Report.WriteJson(options.Json, report);
        return report;
    }

    /// <summary>How far beyond the window a jump may go before predict warns: a multiple of the window's length.</summary>
    public const double FarTargetWindows = 10;

    internal static void WarnFarTarget(IAnsiConsole console, IReadOnlyList<Candidate> candidates, long baseStep, long first, long last)
    {
        // With one checkpoint the window is the stretch from the base.
        long window = last > first ? last - first : last - baseStep;
        foreach (var c in candidates.Where(c => c.TargetStep - last > FarTargetWindows * window))
            console.WriteLine($"warning: target step {c.TargetStep} lies {(double)(c.TargetStep - last) / window:0.#} window lengths beyond the last checkpoint " +
                $"(step {last}, window length {window}); a line fitted on the window is rarely right that far out.");
    }

    internal static void CheckPredictUsage(PredictOptions options)
    {
        if (options.Floors.Count > 0 && options.ScoreCommand is null)
            throw new UsageException("--floor needs --score-command: the floors apply to the metrics it prints after the score.");
        if (options.Lengths is not null && options.TargetStep is not null)
            throw new UsageException("--lengths and --target-step are mutually exclusive: give one.");
        if (options.Lengths is null && options.TargetStep is null)
            throw new UsageException("Give --target-step or --lengths.");
        if (options.Lengths is { Count: 0 })
            throw new UsageException("--lengths needs at least one length, e.g. --lengths 0,0.5,1,2.");
        if (options.Method == JumpMethod.Rank1 && options.AllTensors)
            throw new UsageException("--all-tensors applies to --method velocity or direction; the rank-1 jump covers only the covered matrices.");
        if (options.Method != JumpMethod.Rank1 && options.Form != JumpForm.Increment)
            throw new UsageException($"--form applies to --method rank1 only; --method {MethodName(options.Method)} was given.");
        if (!double.IsFinite(options.ScoreTimeoutSeconds) || options.ScoreTimeoutSeconds <= 0 || options.ScoreTimeoutSeconds > int.MaxValue / 1000.0)
            throw new UsageException($"--score-timeout must be a positive number of seconds; got {options.ScoreTimeoutSeconds}.");
        if (options.Shard is not null && (options.Lengths is not null || options.ScoreCommand is not null))
            throw new UsageException("--shard writes one part of a single prediction; it does not go with --lengths or --score-command.");
        if (JumpDefaults.CheckFitThreshold(options.FitThreshold) is { } bad)
            throw new UsageException($"--fit-threshold {bad}; got {options.FitThreshold.ToString(CultureInfo.InvariantCulture)}.");
        if (options.ScoreCommand is { } command && string.IsNullOrWhiteSpace(command))
            throw new UsageException("--score-command is empty.");
        if (AlphaRl.Jumps.GuardRule.CheckTolerance(options.Tolerance) is { } tolerance)
            throw new UsageException($"--tolerance {tolerance}; got {options.Tolerance}.");
        if (AlphaRl.Jumps.GuardRule.CheckNoiseZ(options.NoiseZ) is { } z)
            throw new UsageException($"--noise-z {z}; got {options.NoiseZ}.");
        if ((options.Tolerance != 0 || options.NoiseZ != 0) && options.ScoreCommand is null)
            throw new UsageException("--tolerance and --noise-z need --score-command: they are the guard's margins against W_e's score.");
    }

    public static string MethodName(JumpMethod method) => method switch
    {
        JumpMethod.Rank1 => "rank1",
        JumpMethod.Velocity => "velocity",
        JumpMethod.Direction => "direction",
        _ => method.ToString(),
    };

    public static string FormName(JumpForm form) => form switch
    {
        JumpForm.Increment => "increment",
        JumpForm.AddToLast => "add-to-last",
        JumpForm.AddToBase => "add-to-base",
        _ => form.ToString(),
    };
}
