using System.ComponentModel;
using System.Text.Json.Serialization;
using AlphaRl.Extrapolation;
using AlphaRl.Linalg;
using AlphaRl.TorchSharp.Jumps;
using TorchSharp.Modules;

namespace AlphaRl.TorchSharp;

// The flat settings of earlier versions, each forwarding to its place in a group (docs/migration.md). They are not
// serialized: saved settings hold the groups only, and files saved with the flat names are migrated when read.
public sealed partial class AlphaRLOptions
{
    private const string Moved = "Moved into a group of AlphaRLOptions; see docs/migration.md.";

    /// <summary>Obsolete: <see cref="SnapshotOptions.StartStep"/>.</summary>
    [Obsolete(Moved + " Use Snapshots.StartStep."), JsonIgnore, EditorBrowsable(EditorBrowsableState.Never)]
    public long? StartStep { get => Snapshots.StartStep; set => Snapshots.StartStep = value; }

    /// <summary>Obsolete: <see cref="SnapshotOptions.Interval"/>.</summary>
    [Obsolete(Moved + " Use Snapshots.Interval."), JsonIgnore, EditorBrowsable(EditorBrowsableState.Never)]
    public int SnapshotInterval { get => Snapshots.Interval; set => Snapshots.Interval = value; }

    /// <summary>Obsolete: <see cref="SnapshotOptions.Max"/>.</summary>
    [Obsolete(Moved + " Use Snapshots.Max."), JsonIgnore, EditorBrowsable(EditorBrowsableState.Never)]
    public int MaxSnapshots { get => Snapshots.Max; set => Snapshots.Max = value; }

    /// <summary>Obsolete: <see cref="SnapshotOptions.KeepBaseOnCpu"/>.</summary>
    [Obsolete(Moved + " Use Snapshots.KeepBaseOnCpu."), JsonIgnore, EditorBrowsable(EditorBrowsableState.Never)]
    public bool KeepBaseOnCpu { get => Snapshots.KeepBaseOnCpu; set => Snapshots.KeepBaseOnCpu = value; }

    /// <summary>Obsolete: <see cref="SnapshotOptions.PowerIteration"/>.</summary>
    [Obsolete(Moved + " Use Snapshots.PowerIteration."), JsonIgnore, EditorBrowsable(EditorBrowsableState.Never)]
    public PowerIterationOptions PowerIteration { get => Snapshots.PowerIteration; set => Snapshots.PowerIteration = value; }

    /// <summary>Obsolete: <see cref="AttemptOptions.MinSnapshots"/>.</summary>
    [Obsolete(Moved + " Use Attempts.MinSnapshots."), JsonIgnore, EditorBrowsable(EditorBrowsableState.Never)]
    public int MinSnapshots { get => Attempts.MinSnapshots; set => Attempts.MinSnapshots = value; }

    /// <summary>Obsolete: <see cref="AttemptOptions.FitThreshold"/>.</summary>
    [Obsolete(Moved + " Use Attempts.FitThreshold."), JsonIgnore, EditorBrowsable(EditorBrowsableState.Never)]
    public double FitThreshold { get => Attempts.FitThreshold; set => Attempts.FitThreshold = value; }

    /// <summary>Obsolete: <see cref="AttemptOptions.HoldOutFraction"/>.</summary>
    [Obsolete(Moved + " Use Attempts.HoldOutFraction."), JsonIgnore, EditorBrowsable(EditorBrowsableState.Never)]
    public double HoldOutFraction { get => Attempts.HoldOutFraction; set => Attempts.HoldOutFraction = value; }

    /// <summary>Obsolete: <see cref="AttemptOptions.Schedule"/>.</summary>
    [Obsolete(Moved + " Use Attempts.Schedule."), JsonIgnore, EditorBrowsable(EditorBrowsableState.Never)]
    public JumpSchedule Schedule { get => Attempts.Schedule; set => Attempts.Schedule = value; }

    /// <summary>Obsolete: <see cref="AttemptOptions.MaxJumps"/>.</summary>
    [Obsolete(Moved + " Use Attempts.MaxJumps."), JsonIgnore, EditorBrowsable(EditorBrowsableState.Never)]
    public int MaxJumps { get => Attempts.MaxJumps; set => Attempts.MaxJumps = value; }

    /// <summary>Obsolete: <see cref="AttemptOptions.SkipWhenBending"/>.</summary>
    [Obsolete(Moved + " Use Attempts.SkipWhenBending."), JsonIgnore, EditorBrowsable(EditorBrowsableState.Never)]
    public bool SkipWhenBending { get => Attempts.SkipWhenBending; set => Attempts.SkipWhenBending = value; }

    /// <summary>Obsolete: <see cref="AttemptOptions.MinVelocityCosine"/>.</summary>
    [Obsolete(Moved + " Use Attempts.MinVelocityCosine."), JsonIgnore, EditorBrowsable(EditorBrowsableState.Never)]
    public double MinVelocityCosine { get => Attempts.MinVelocityCosine; set => Attempts.MinVelocityCosine = value; }

    /// <summary>Obsolete: <see cref="AttemptOptions.MinStepNormTrend"/>.</summary>
    [Obsolete(Moved + " Use Attempts.MinStepNormTrend."), JsonIgnore, EditorBrowsable(EditorBrowsableState.Never)]
    public double MinStepNormTrend { get => Attempts.MinStepNormTrend; set => Attempts.MinStepNormTrend = value; }

    /// <summary>Obsolete: <see cref="JumpOptions.Methods"/>.</summary>
    [Obsolete(Moved + " Use Jumps.Methods."), JsonIgnore, EditorBrowsable(EditorBrowsableState.Never)]
    public IList<JumpMethodOptions> Methods { get => Jumps.Methods; set => Jumps.Methods = value; }

    /// <summary>Obsolete: <see cref="JumpOptions.Lengths"/>.</summary>
    [Obsolete(Moved + " Use Jumps.Lengths."), JsonIgnore, EditorBrowsable(EditorBrowsableState.Never)]
    public IList<double> JumpLengths { get => Jumps.Lengths; set => Jumps.Lengths = value; }

    /// <summary>Obsolete: <see cref="JumpOptions.TargetStep"/>.</summary>
    [Obsolete(Moved + " Use Jumps.TargetStep."), JsonIgnore, EditorBrowsable(EditorBrowsableState.Never)]
    public long? TargetStep { get => Jumps.TargetStep; set => Jumps.TargetStep = value; }

    /// <summary>Obsolete: <see cref="JumpOptions.MaxEvaluations"/>.</summary>
    [Obsolete(Moved + " Use Jumps.MaxEvaluations."), JsonIgnore, EditorBrowsable(EditorBrowsableState.Never)]
    public int? MaxEvaluationsPerWindow { get => Jumps.MaxEvaluations; set => Jumps.MaxEvaluations = value; }

    /// <summary>Obsolete: <see cref="GuardOptions.Tolerance"/>.</summary>
    [Obsolete(Moved + " Use Guard.Tolerance."), JsonIgnore, EditorBrowsable(EditorBrowsableState.Never)]
    public double GuardTolerance { get => Guard.Tolerance; set => Guard.Tolerance = value; }

    /// <summary>Obsolete: <see cref="GuardOptions.NoiseZ"/>.</summary>
    [Obsolete(Moved + " Use Guard.NoiseZ."), JsonIgnore, EditorBrowsable(EditorBrowsableState.Never)]
    public double GuardNoiseZ { get => Guard.NoiseZ; set => Guard.NoiseZ = value; }

    /// <summary>Obsolete: <see cref="GuardOptions.Floors"/>.</summary>
    [Obsolete(Moved + " Use Guard.Floors."), JsonIgnore, EditorBrowsable(EditorBrowsableState.Never)]
    public IDictionary<string, double> GuardFloors { get => Guard.Floors; set => Guard.Floors = value; }

    /// <summary>Obsolete: <see cref="GuardOptions.KeepBackupOnCpu"/>.</summary>
    [Obsolete(Moved + " Use Guard.KeepBackupOnCpu."), JsonIgnore, EditorBrowsable(EditorBrowsableState.Never)]
    public bool KeepBackupOnCpu { get => Guard.KeepBackupOnCpu; set => Guard.KeepBackupOnCpu = value; }

    /// <summary>Obsolete: <see cref="CoverageOptions.Include"/>.</summary>
    [Obsolete(Moved + " Use Coverage.Include."), JsonIgnore, EditorBrowsable(EditorBrowsableState.Never)]
    public IList<string> IncludePatterns { get => Coverage.Include; set => Coverage.Include = value; }

    /// <summary>Obsolete: <see cref="CoverageOptions.Exclude"/>.</summary>
    [Obsolete(Moved + " Use Coverage.Exclude."), JsonIgnore, EditorBrowsable(EditorBrowsableState.Never)]
    public IList<string> ExcludePatterns { get => Coverage.Exclude; set => Coverage.Exclude = value; }

    /// <summary>Obsolete: a behaviour, now passed beside the settings as <see cref="SessionServices.Extrapolator"/>. Still honoured when set here.</summary>
    [Obsolete("Behaviour goes beside the settings: pass SessionServices.Extrapolator (or register an IExtrapolator); see docs/migration.md."), JsonIgnore, EditorBrowsable(EditorBrowsableState.Never)]
    public IExtrapolator? Extrapolator { get; set; }

    /// <summary>Obsolete: a behaviour, now passed beside the settings as <see cref="SessionServices.Cover"/>. Still honoured when set here.</summary>
    [Obsolete("Behaviour goes beside the settings: pass SessionServices.Cover; see docs/migration.md."), JsonIgnore, EditorBrowsable(EditorBrowsableState.Never)]
    public Func<string, Parameter, bool>? Cover { get; set; }

    /// <summary>Removed: it was validated but never read, so it changed nothing. Use <see cref="Paper(double)"/> or Jumps.Lengths = [0, multiple − 1].</summary>
    [Obsolete("TargetMultiple never decided a jump. Use AlphaRLOptions.Paper(multiple) or Jumps.Lengths = [0, multiple - 1]; see docs/migration.md.", error: true), JsonIgnore, EditorBrowsable(EditorBrowsableState.Never)]
    public double TargetMultiple
    {
        get => throw new NotSupportedException("AlphaRLOptions.TargetMultiple was removed: use AlphaRLOptions.Paper(multiple) or Jumps.Lengths = [0, multiple - 1].");
        set => throw new NotSupportedException("AlphaRLOptions.TargetMultiple was removed: use AlphaRLOptions.Paper(multiple) or Jumps.Lengths = [0, multiple - 1].");
    }
}
