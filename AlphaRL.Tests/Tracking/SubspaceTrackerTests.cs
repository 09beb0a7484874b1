using AlphaRl.Linalg;
using AlphaRl.Tests.Support;
using AlphaRl.Tracking;

namespace AlphaRl.Tests.Tracking;

public class SubspaceTrackerTests
{
    [Test]
    public void SignFlipsInjectedAtRandomSnapshots_AreUndone()
    {
        var random = new Random(17);
        var b = Synthetic.UnitVector(50, new Random(1));
        var v = Synthetic.UnitVector(30, new Random(2));
        var tracker = new SubspaceTracker();
        var flipped = new List<bool>();
        foreach (long step in Trajectories.Steps(40))
        {
            var t = Trajectories.Triplet(b.Select(x => x * step).ToArray(), v);
            bool flip = random.NextDouble() < 0.5;
            flipped.Add(flip);
            if (flip) t = t with { U = t.U.Select(x => -x).ToArray(), V = t.V.Select(x => -x).ToArray() };
            tracker.Record("m", step, t);
        }

        Assert.That(flipped.Count(f => f), Is.GreaterThan(5), "the test must actually inject flips");
        foreach (var s in tracker.Snapshots("m"))
        {
            Assert.That(Synthetic.Cosine(s.U, b), Is.GreaterThan(0.9999), $"u at step {s.Step}");
            Assert.That(Synthetic.Cosine(s.V, v), Is.GreaterThan(0.9999), $"v at step {s.Step}");
        }
    }

    [Test]
    public void Alignment_IsOnline_TheFirstSnapshotIsNeverFlipped()
    {
        var v = Synthetic.UnitVector(8, new Random(2));
        var x = Synthetic.UnitVector(10, new Random(1));
        var tracker = new SubspaceTracker();
        var first = tracker.Record("m", 1, Trajectories.Triplet(x.Select(e => -e).ToArray(), v));
        Assert.That(Synthetic.Cosine(first.U, x), Is.LessThan(-0.9999), "the first snapshot has no past to align to");
    }

    [Test]
    public void Observe_OnSpans_RecordsTheTopTripletOfTheUpdate()
    {
        var a = Synthetic.LowRankPlusNoise(30, 20, seed: 3);
        var tracker = new SubspaceTracker();
        var snapshot = tracker.Observe("m", 10, a, 30, 20);
        var reference = TopSingular.Compute(a, 30, 20);
        Assert.That(snapshot.Sigma, Is.EqualTo(reference.Value).Within(1e-3));
        Assert.That(snapshot.EnergyShare, Is.InRange(0.5, 1.0));
        Assert.That(tracker.StorageBytes, Is.EqualTo(sizeof(float) * (30 + 20 + 2) + sizeof(long)));
    }

    [Test]
    public void ShapeChange_StepsOutOfOrder_AndNaN_AreRejectedWithTheMatrixName()
    {
        var tracker = new SubspaceTracker();
        tracker.Observe("layers.1.up_proj", 10, Synthetic.LowRankPlusNoise(6, 4, 1), 6, 4);
        Assert.That(() => tracker.Observe("layers.1.up_proj", 20, Synthetic.LowRankPlusNoise(4, 6, 1), 4, 6),
            Throws.TypeOf<AlphaRLException>().With.Message.Contains("layers.1.up_proj").And.Message.Contains("6×4"));
        Assert.That(() => tracker.Observe("layers.1.up_proj", 10, Synthetic.LowRankPlusNoise(6, 4, 1), 6, 4),
            Throws.TypeOf<AlphaRLException>().With.Message.Contains("increasing"));
        var bad = Synthetic.LowRankPlusNoise(6, 4, 1);
        bad[0] = float.NaN;
        Assert.That(() => tracker.Observe("layers.1.up_proj", 30, bad, 6, 4),
            Throws.TypeOf<AlphaRLException>().With.Message.Contains("NaN"));
        Assert.That(tracker.Snapshots("layers.1.up_proj"), Has.Count.EqualTo(1), "rejected input records nothing");
    }

    [Test]
    public void KeepNewest_SlidesTheWindow()
    {
        var tracker = new SubspaceTracker();
        foreach (long step in Trajectories.Steps(6)) tracker.Observe("m", step, Synthetic.LowRankPlusNoise(5, 5, (int)step), 5, 5);
        tracker.KeepNewest(3);
        Assert.That(tracker.Snapshots("m").Select(s => s.Step), Is.EqualTo(new long[] { 20, 25, 30 }));
        Assert.That(tracker.Steps, Is.EqualTo(new long[] { 20, 25, 30 }));
    }
}
