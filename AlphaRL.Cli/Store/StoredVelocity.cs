using AlphaRl.Checkpoints;
using AlphaRl.Extrapolation;

namespace AlphaRl.Cli;

/// <summary>
/// The velocity's running sums in a snapshot store: for each covered matrix its running mean and co-moment
/// (<see cref="WeightVelocity.Observe(Span{float}, Span{float}, ReadOnlySpan{float}, VelocityObservation)"/>, F32
/// tensors <c>NAME/mean</c> and <c>NAME/comoment</c>) in <c>velocity-STEP.safetensors</c>, and the step scalars in the
/// manifest. Each recorded checkpoint writes a new file next to the old one; the manifest then points at it and the old
/// one is deleted, so the sums on disk always match the steps the manifest lists. Disk: 8 bytes per covered weight
/// (2 × the covered matrices of a float32 checkpoint, 4 × of a bfloat16 one), whatever the number of checkpoints.
/// </summary>
internal static class StoredVelocity
{
    public static string FileName(long step) => $"velocity-{step}.safetensors";

    /// <summary>The file's layout: mean and co-moment of each covered matrix, in the manifest's order.</summary>
    public static List<(string Name, SafetensorsDType DType, long[] Shape)> Layout(IReadOnlyList<StoreMatrix> matrices) =>
        matrices.SelectMany(m => new[] { (m.Name + "/mean", SafetensorsDType.F32, new long[] { m.Rows, m.Cols }), (m.Name + "/comoment", SafetensorsDType.F32, new long[] { m.Rows, m.Cols }) }).ToList();

    /// <summary>The clock of a store's sums.</summary>
    public static VelocityClock Clock(StoreVelocity velocity, string store)
    {
        var clock = new VelocityClock();
        try
        {
            clock.Restore(velocity.Count, velocity.MeanStep, velocity.StepComoment);
        }
        catch (ArgumentException e)
        {
            throw new CheckpointFormatException(Path.Combine(store, SnapshotStore.ManifestName), $"velocity is inconsistent: {e.Message}");
        }
        return clock;
    }

    /// <summary>Opens the sums file and checks that it holds every covered matrix's mean and co-moment.</summary>
    public static SafetensorsFile Open(string store, StoreVelocity velocity, IReadOnlyList<StoreMatrix> matrices)
    {
        string fileName = velocity.File ?? throw new InvalidOperationException("The store's velocity has no file yet.");
        if (!System.Text.RegularExpressions.Regex.IsMatch(fileName, @"^velocity-\d+\.safetensors$"))
            throw new CheckpointFormatException(Path.Combine(store, SnapshotStore.ManifestName), $"names '{fileName}' as the velocity's sums; expected a file velocity-STEP.safetensors in the store.");
        string path = Path.Combine(store, fileName);
        if (!File.Exists(path)) throw new CheckpointFormatException(path, "the velocity's running sums are missing from the store.");
        var file = SafetensorsFile.Open(path);
        try
        {
            foreach (var (name, _, shape) in Layout(matrices))
                if (!file.TryGetTensor(name, out var t) || t.DType != SafetensorsDType.F32 || !t.Shape.SequenceEqual(shape))
                    throw new CheckpointFormatException(path, $"lacks '{name}' as F32 [{string.Join(", ", shape)}].");
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// One checkpoint's update of the sums, matrix by matrix in the manifest's order, into a new file: the previous
    /// sums are read, updated with W_t and written. <see cref="Commit"/> completes the file; the caller then writes the
    /// manifest with <see cref="Manifest"/> and calls <see cref="RemovePrevious"/>.
    /// </summary>
    public sealed class Update : IDisposable
    {
        private readonly string _store;
        private readonly StoreVelocity _before;
        private readonly SafetensorsFile? _previous;
        private readonly SafetensorsWriter _writer;
        private readonly string _temp, _file;
        private readonly VelocityObservation _observation;
        private readonly VelocityClock _clock;
        private float[] _mean = [], _comoment = [];
        private bool _committed;

        public Update(string store, StoreManifest manifest, long step)
        {
            _store = store;
            _before = manifest.Velocity ?? throw new InvalidOperationException("The store keeps no velocity.");
            _clock = Clock(_before, store);
            _observation = _clock.Add(step - manifest.Origin);
            _file = FileName(step);
            _temp = AtomicFile.TemporaryFor(Path.Combine(store, _file));
            _previous = _before.File is null ? null : Open(store, _before, manifest.Matrices);
            try
            {
                _writer = new SafetensorsWriter(_temp, Layout(manifest.Matrices));
            }
            catch
            {
                _previous?.Dispose();
                throw;
            }
        }

        /// <summary>Updates the next covered matrix's sums with its weights <paramref name="weights"/> (finite: checked by the caller's snapshot).</summary>
        public void Add(StoreMatrix matrix, ReadOnlySpan<float> weights)
        {
            int n = weights.Length;
            if (_mean.Length < n) (_mean, _comoment) = (new float[n], new float[n]);
            Span<float> mean = _mean.AsSpan(0, n), comoment = _comoment.AsSpan(0, n);
            if (_previous is not null)
            {
                _previous.ReadFloats(_previous.Tensor(matrix.Name + "/mean"), mean);
                _previous.ReadFloats(_previous.Tensor(matrix.Name + "/comoment"), comoment);
                Finite.Ensure(mean, _previous.Path, matrix.Name + "/mean", "in the store's velocity sums");
                Finite.Ensure(comoment, _previous.Path, matrix.Name + "/comoment", "in the store's velocity sums");
            }
            WeightVelocity.Observe(mean, comoment, weights, _observation);
            _writer.Write(mean);
            _writer.Write(comoment);
        }

        /// <summary>Completes the new file under its final name.</summary>
        public void Commit()
        {
            _writer.Complete();
            _writer.Dispose();
            File.Move(_temp, Path.Combine(_store, _file), overwrite: true);
            _committed = true;
        }

        /// <summary>The manifest's velocity once the new file is committed.</summary>
        public StoreVelocity Manifest => new(_clock.Count, _clock.MeanStep, _clock.StepComoment, _file, _before.Skip);

        /// <summary>Deletes the previous sums once the manifest no longer names them.</summary>
        public void RemovePrevious()
        {
            _previous?.Dispose();
            if (_before.File is { } old && old != _file) File.Delete(Path.Combine(_store, old));
        }

        public void Dispose()
        {
            _writer.Dispose();
            _previous?.Dispose();
            if (!_committed) File.Delete(_temp);
        }
    }
}
