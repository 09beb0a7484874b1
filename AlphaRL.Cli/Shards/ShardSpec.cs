namespace AlphaRl.Cli;

/// <summary>Which part of the work a process does: shard <see cref="Index"/> of <see cref="Count"/> (0-based, as a Slurm
/// array task id or a Kubernetes Job completion index).</summary>
internal sealed record ShardSpec(int Index, int Count)
{
    /// <summary>Parses <c>i/n</c> with 0 ≤ i &lt; n.</summary>
    public static ShardSpec Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[0], out int i) || !int.TryParse(parts[1], out int n) || n < 1 || i < 0 || i >= n)
            throw new UsageException($"--shard '{text}' must be i/n with 0 ≤ i < n, e.g. --shard 0/4 (the first of four).");
        return new ShardSpec(i, n);
    }

    /// <summary>The tensors of this shard: the computed tensors sorted by name (ordinal), every n-th from the i-th, so
    /// the split depends on the names only.</summary>
    public HashSet<string> Select(IEnumerable<string> computed) =>
        computed.Order(StringComparer.Ordinal).Where((_, k) => k % Count == Index).ToHashSet(StringComparer.Ordinal);

    /// <summary>The folder a shard writes its part into, beside the final output.</summary>
    public string PartFolder(string output) => Path.TrimEndingDirectorySeparator(output) + $".part-{Index}-of-{Count}";
}
