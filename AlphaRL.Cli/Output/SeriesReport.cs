namespace AlphaRl.Cli;

/// <summary>Per-matrix figures: energy share of rank 1 at each checkpoint, and the fit's out-of-sample error beside
/// its in-sample R² (which is reported, never trusted: it is near 1 even for noise).</summary>
internal sealed record MatrixReport(
    string Name, int Rows, int Cols, long[] Steps, double[] EnergyShare,
    double? HoldOutRelativeError, double? HoldOutCosine, double? InSampleR2);

internal sealed record ReportSummary(
    int Matrices, double MeanEnergyShareLast, double MinEnergyShareLast,
    double? PooledHoldOutRelativeError, double? PooledHoldOutCosine, double? MedianHoldOutRelativeError,
    string? WorstMatrix, double? WorstHoldOutRelativeError, bool BasePointUsed);

/// <summary>Per tensor of a velocity or direction jump: ‖W_e − W0‖/‖W0‖, the size of the one-window (j = 1) jump relative
/// to ‖W_e‖, and for the velocity the cosine between the slope and the window's displacement W_e − W_s (1 on a straight path).</summary>
internal sealed record TensorJumpReport(string Name, string Shape, double RelativeUpdate, double JumpPerWindow, double? SlopeDisplacementCosine);

/// <summary>One written candidate: its jump length j (in window lengths), target step, folder, and score when scored.</summary>
internal sealed record CandidateReport(double? Length, long TargetStep, string Folder, bool NoJump, double? Score, bool Kept)
{
    /// <summary>The secondary metrics the score command printed after the score, if any.</summary>
    public IReadOnlyDictionary<string, double>? Metrics { get; init; }

    /// <summary>Whether every <c>--floor</c> held (null without floors; W_e is always eligible, floors or not).</summary>
    public bool? MeetsFloors { get; init; }
}

/// <summary>What a command did. <c>Method</c> is the trajectory fit of the rank-1 jump (step-line, metric-pls) or the
/// jump itself (velocity, direction); <c>Jump</c> is rank1, velocity or direction. Rank-1 figures are in <c>Summary</c> and
/// <c>Matrices</c>; velocity and direction figures in <c>Tensors</c>.</summary>
internal sealed record SeriesReport(string Command, string Method, long BaseStep, long[] Steps, long? TargetStep, string? Form,
    ReportSummary? Summary, IReadOnlyList<MatrixReport> Matrices)
{
    public string? Jump { get; init; }
    public long? WindowLength { get; init; }
    public bool? AllTensors { get; init; }
    public IReadOnlyList<TensorJumpReport>? Tensors { get; init; }
    public string? ScoreCommand { get; init; }
    public IReadOnlyList<CandidateReport>? Candidates { get; init; }

    /// <summary>On a series of LoRA adapters: the adapter's configuration (and the base merged into, if any).</summary>
    public AdapterReport? Adapter { get; init; }

    /// <summary>On a series of LoRA adapters predicted: per target module, the effective update before and after the jump.</summary>
    public IReadOnlyList<LoraModuleReport>? Modules { get; init; }
}

/// <summary>The LoRA adapter a command read: rank, lora_alpha, use_rslora and the resulting scale of ΔW = scale · B A;
/// <c>MergedInto</c> is the base checkpoint the prediction was merged into, when it was.</summary>
internal sealed record AdapterReport(int Rank, double Alpha, bool UseRslora, double Scale, int Modules, string? MergedInto);

/// <summary>Per target module of a predicted adapter: ‖ΔW‖_F and the rank-1 energy share s1²/‖ΔW‖²_F of the effective
/// update ΔW = scale · B A at the last checkpoint and at the target step (from the factors, never forming ΔW).</summary>
internal sealed record LoraModuleReport(string Name, int Rows, int Cols, int Rank,
    double UpdateNormLast, double UpdateNormPredicted, double EnergyShareLast, double EnergySharePredicted);
