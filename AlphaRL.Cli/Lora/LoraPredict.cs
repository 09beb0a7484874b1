using System.Numerics.Tensors;
using AlphaRl.Checkpoints;
using AlphaRl.Extrapolation;
using AlphaRl.Linalg;
using Spectre.Console;

namespace AlphaRl.Cli;

/// <summary>
/// <c>predict</c> on a series of LoRA adapters: the adapter's own tensors are extrapolated (velocity: each weight of
/// lora_A, lora_B and any other float tensor along its least-squares slope; direction: lora_B scaled by
/// (T − base)/(e − base), which continues the effective update ΔW = scale · B A from zero at the base, where a fresh
/// LoRA has B = 0), and written as an adapter folder with the same tensor names and dtypes and a copy of the config,
/// or merged into a base checkpoint (<c>--merge-into</c>): W + scale · B A per target module, in the base's dtype.
/// With <c>--lengths</c> or <c>--score-command</c>, one adapter (or merged checkpoint) per candidate, scored and kept
/// as for full checkpoints (<see cref="CandidateGrid"/>). Everything is predicted and checked finite before anything is written.
/// </summary>
internal static class LoraPredict
{
    public static SeriesReport Run(PredictOptions options, IAnsiConsole console, CancellationToken cancellation = default)
    {
        var method = options.MethodChosen ? options.Method : JumpMethod.Velocity;
        CheckUsage(options, method);
        Predict.CheckPredictUsage(options);
        var inputs = options.Series.Checkpoints.Select(c => c.Directory).Prepend(options.Series.Base);
        if (options.MergeInto is { } merge) inputs = inputs.Append(merge);
        OutputChecks.Check(options.Out, "--out", inputs);
        if (options.Json is not null) OutputChecks.Check(options.Json, "--json");
        using var series = AdapterSeries.Open(options.Series.Checkpoints, options.Series.BaseStep);
        if (method == JumpMethod.Velocity && series.Window.Count < 2)
            throw new UsageException($"--method velocity needs at least two checkpoints (a slope needs two distinct steps); {series.Window.Count} given.");
        if (method == JumpMethod.Direction && series.Others.Count > 0)
            throw new AlphaRLException($"--method direction on an adapter continues scale · B A from zero at the base, but {series.Last.Shards[0].Path} also holds " +
                $"'{series.Others[0]}' (a module saved whole), whose value at the base the adapter does not say; use --method velocity.");
        using (var model = Checkpoint.Open(options.Series.Base))
            series.EnsureFits(model, "--base", others: false);
        long first = series.Steps[0], last = series.Steps[^1];
        bool scoring = options.ScoreCommand is not null;
        var candidates = Candidate.Plan(options.Lengths, options.TargetStep, first, last, scoring);
        // A grid (or a scored pair) is written as candidate folders; a plain --target-step writes --out itself.
        bool grid = options.Lengths is not null || scoring;
        Predict.WarnFarTarget(console, candidates, series.BaseStep, first, last);
        OutputChecks.WarnStale(console, options.Out);

        // Every candidate is predicted (and checked finite) before anything is written: adapters are small.
        var predicted = PredictTensors(series, method, candidates.Select(c => c.TargetStep).ToList(), cancellation);
        using var into = options.MergeInto is { } intoFolder ? Checkpoint.Open(intoFolder) : null;
        if (into is not null) series.EnsureFits(into, "--merge-into", others: true);
        var layout = into ?? series.Last;
        void WriteTensor(CheckpointTensor tensor, IReadOnlyList<Stream> streams)
        {
            for (int k = 0; k < candidates.Count; k++)
            {
                if (into is not null) WriteMerged(series, predicted[k], tensor, streams[k], candidates[k].TargetStep);
                else if (!candidates[k].NoJump && predicted[k].TryGetValue(tensor.Info.Name, out var values)) SafetensorsFile.WriteFloats(streams[k], values, tensor.Info.DType);
                else tensor.File.CopyRawTo(tensor.Info, streams[k]);
            }
        }
        long total = layout.Shards.Sum(s => s.DataLength) * candidates.Count;
        string doing = into is null ? "predicting the adapter" : "merging the predicted adapter";
        CandidateGrid? written = null;
        if (!grid)
            ConsoleProgress.Run(console, $"{doing} for step {candidates[0].TargetStep}", total, advance =>
                CheckpointWriter.Write(options.Out, layout, (tensor, stream) =>
                {
                    WriteTensor(tensor, [stream]);
                    advance(tensor.Info.ByteLength);
                }, cancellation));
        else
            written = CandidateGrid.Write(options, candidates, total, console, (folders, advance) =>
                CheckpointWriter.WriteInto(folders, layout, (tensor, streams) =>
                {
                    WriteTensor(tensor, streams);
                    advance(tensor.Info.ByteLength * streams.Count);
                }, cancellation), cancellation);

        var config = series.Config;
        var report = new SeriesReport("predict", Predict.MethodName(method), series.BaseStep, series.Steps.ToArray(), grid ? null : candidates[0].TargetStep, null, null, [])
        {
            Jump = Predict.MethodName(method),
            WindowLength = last - first,
            ScoreCommand = options.ScoreCommand,
            Candidates = written?.Reports(),
            Adapter = new AdapterReport(config.Rank, config.Alpha, config.UseRsLora, config.Scale, series.Modules.Count, options.MergeInto),
            Modules = grid ? null : series.Modules.Select(m => ModuleReport(series, m, predicted[0])).ToList(),
        };
        string what = (method == JumpMethod.Velocity ? "velocity of every adapter weight: W_e + (T − e)·b" : "direction: lora_B scaled by (T − base)/(e − base)") +
            (into is null ? "" : $"; merged into {options.MergeInto} as W + {config.Scale:G6}·B A");
        string from = $"from steps {string.Join(", ", report.Steps)}";
        if (written is null)
        {
            Report.RenderModules(console, report);
            console.WriteLine($"Wrote {options.Out}: the LoRA adapter for step {report.TargetStep} predicted {from} ({what})" +
                (into is null ? $", with {AdapterConfig.FileName}." : ": a full checkpoint."));
        }
        else
            written.Describe(console, report.Candidates!, options.Out, first, last, what, from);
        if (options.Json is not null) Report.WriteJson(options.Json, report);
        return report;
    }

    private static void CheckUsage(PredictOptions options, JumpMethod method)
    {
        const string adapters = "on a series of LoRA adapter folders";
        if (method == JumpMethod.Rank1)
            throw new UsageException($"--method rank1 (and step-line, metric-pls) does not apply {adapters}: the rank-1 jump moves a full weight matrix, " +
                "which an adapter of rank r cannot hold. Use --method velocity (the default for adapters) or direction, with --merge-into BASE for full weights.");
        if (options.Shard is not null)
            throw new UsageException($"--shard is not supported {adapters}: an adapter is small enough to predict in one piece.");
        if (options.AllTensors)
            throw new UsageException($"--all-tensors does not apply {adapters}: every float tensor of the adapter is extrapolated already.");
        if (options.Form != JumpForm.Increment)
            throw new UsageException("--form applies to --method rank1 only.");
    }

    /// <summary>For each target step, the predicted values of every float tensor of the adapter, rounded to the tensor's
    /// dtype (what is written, and what a merge multiplies). Non-float tensors are left out (copied unchanged).</summary>
    private static List<Dictionary<string, float[]>> PredictTensors(AdapterSeries series, JumpMethod method, IReadOnlyList<long> targets,
        CancellationToken cancellation)
    {
        long last = series.Steps[^1];
        var factorsB = new HashSet<string>(series.Modules.Select(m => m.B), StringComparer.Ordinal);
        bool direction = method == JumpMethod.Direction;
        var velocity = new WeightVelocity();
        var predicted = targets.Select(_ => new Dictionary<string, float[]>(StringComparer.Ordinal)).ToList();
        foreach (string name in series.Last.TensorNames)
        {
            cancellation.ThrowIfCancellationRequested();
            var info = series.Last.Tensor(name).Info;
            if (!info.DType.IsFloat()) continue;
            int n = checked((int)info.ElementCount);
            var values = new float[n];
            if (!direction)
            {
                velocity.Reset(name, n, origin: series.BaseStep);
                foreach (var (step, adapter) in series.Window)
                {
                    var t = adapter.Tensor(name);
                    t.ReadFloats(values);
                    velocity.Add(step, values, t.File.Path);
                }
                // values now holds W_e, the last checkpoint's.
            }
            else
            {
                Finite.Read(series.Last.Tensor(name), values, $"at step {last}");
            }
            for (int k = 0; k < targets.Count; k++)
            {
                var result = new float[n];
                if (direction)
                {
                    // Along the whole update ΔW, zero at the base: lora_B times (T − base)/(e − base), everything else kept.
                    double c = factorsB.Contains(name) ? (double)(targets[k] - series.BaseStep) / (last - series.BaseStep) : 1;
                    for (int i = 0; i < n; i++) result[i] = (float)(c * values[i]);
                }
                else
                {
                    // W_e + (T − e)·b: the velocity's float32 jump, as the hook and the full-checkpoint path form it.
                    velocity.Jump(values, targets[k] - last, result);
                }
                RoundToStored(result, info.DType, $"The prediction for step {targets[k]} of tensor '{name}'");
                predicted[k].Add(name, result);
            }
        }
        return predicted;
    }

    /// <summary>Rounds values to <paramref name="dtype"/> in place (as they will be stored) and checks that they are
    /// finite there (a value beyond the float16 or float32 range becomes infinite).</summary>
    private static void RoundToStored(float[] values, SafetensorsDType dtype, string what)
    {
        var bytes = new byte[values.Length * dtype.Size()];
        FloatCodec.Encode(values, dtype, bytes);
        FloatCodec.Decode(bytes, dtype, values);
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i]))
                throw new AlphaRLException($"{what} is not finite in {dtype} at element {i}; choose a nearer --target-step. Nothing was written.");
    }

    /// <summary>One tensor of the merged checkpoint: W + scale · B A for a target module's base weight (the sum formed in
    /// double, rounded once to the base's dtype), the predicted tensor for a module saved whole, else the base's bytes.</summary>
    private static void WriteMerged(AdapterSeries series, Dictionary<string, float[]> predicted, CheckpointTensor tensor, Stream stream, long target)
    {
        var info = tensor.Info;
        if (series.ModuleOf(info.Name) is { } module)
        {
            var w = new float[checked(module.Rows * module.Cols)];
            Finite.Read(tensor, w, "of the base (--merge-into)");
            MergeInto(w, predicted[module.B], predicted[module.A], module.Rows, module.Cols, module.Rank, series.Config.Scale);
            RoundToStored(w, info.DType, $"The merged weight '{info.Name}' for step {target}");
            SafetensorsFile.WriteFloats(stream, w, info.DType);
        }
        else if (series.SavedWholeAs(info.Name) is { } whole)
        {
            var values = (float[])predicted[whole].Clone();
            RoundToStored(values, info.DType, $"The merged tensor '{info.Name}' for step {target}");
            SafetensorsFile.WriteFloats(stream, values, info.DType);
        }
        else
        {
            tensor.File.CopyRawTo(info, stream);
        }
    }

    /// <summary>w += scale · B A in place (w rows × cols, B rows × rank, A rank × cols, row-major), each sum in double
    /// and rounded once: a row of scale · B A is accumulated in double, r vectorized multiply-adds of A's rows.</summary>
    internal static void MergeInto(Span<float> w, ReadOnlySpan<float> b, ReadOnlySpan<float> a, int rows, int cols, int rank, double scale)
    {
        var wideA = new double[a.Length];
        for (int i = 0; i < a.Length; i++) wideA[i] = a[i];
        var row = new double[cols];
        for (int o = 0; o < rows; o++)
        {
            Array.Clear(row);
            for (int k = 0; k < rank; k++)
                TensorPrimitives.MultiplyAdd(wideA.AsSpan(k * cols, cols), scale * b[o * rank + k], row, row);
            var wo = w.Slice(o * cols, cols);
            for (int i = 0; i < cols; i++) wo[i] = (float)(wo[i] + row[i]);
        }
    }

    private static LoraModuleReport ModuleReport(AdapterSeries series, LoraModule m, Dictionary<string, float[]> predicted)
    {
        var a = new float[m.Rank * m.Cols];
        var b = new float[m.Rows * m.Rank];
        series.Last.Tensor(m.A).ReadFloats(a);
        series.Last.Tensor(m.B).ReadFloats(b);
        var before = LowRankTopSingular.Compute(b, a, m.Rows, m.Cols, m.Rank, series.Config.Scale);
        var after = LowRankTopSingular.Compute(predicted[m.B], predicted[m.A], m.Rows, m.Cols, m.Rank, series.Config.Scale);
        static double Share(SingularTriplet t) => t.MatrixNorm > 0 ? (double)t.Value * t.Value / ((double)t.MatrixNorm * t.MatrixNorm) : double.NaN;
        return new LoraModuleReport(m.BaseWeight, m.Rows, m.Cols, m.Rank, before.MatrixNorm, after.MatrixNorm, Share(before), Share(after));
    }
}
