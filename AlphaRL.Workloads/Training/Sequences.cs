using AlphaRl.Workloads.Model;
using static TorchSharp.torch;

namespace AlphaRl.Workloads.Training;

/// <summary>Character-level encoding, batched generation and per-token log-probabilities for fixed-length prompts.</summary>
public static class Sequences
{
    /// <summary>Token ids [batch, length] of equal-length texts, on <paramref name="device"/>.</summary>
    public static Tensor Encode(IReadOnlyList<string> texts, string alphabet, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(alphabet);
        if (texts.Count == 0) throw new ArgumentException("No texts to encode.", nameof(texts));
        int length = texts[0].Length;
        var ids = new long[texts.Count * length];
        for (int row = 0; row < texts.Count; row++)
        {
            string text = texts[row];
            if (text.Length != length) throw new ArgumentException($"Text {row} has {text.Length} characters; the first has {length}.", nameof(texts));
            for (int i = 0; i < length; i++)
            {
                int id = alphabet.IndexOf(text[i], StringComparison.Ordinal);
                if (id < 0) throw new ArgumentException($"Character '{text[i]}' of text {row} is not in the alphabet \"{alphabet}\".", nameof(texts));
                ids[row * length + i] = id;
            }
        }
        return tensor(ids, [texts.Count, length], device: device);
    }

    /// <summary>The texts of token ids [batch, length].</summary>
    public static string[] Decode(Tensor ids, string alphabet)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(alphabet);
        long rows = ids.shape[0], length = ids.shape[1];
        long[] values = ids.cpu().data<long>().ToArray();
        var texts = new string[rows];
        for (long row = 0; row < rows; row++)
            texts[row] = string.Create((int)length, (values, row, alphabet), static (span, s) =>
            {
                for (int i = 0; i < span.Length; i++) span[i] = s.alphabet[(int)s.values[s.row * span.Length + i]];
            });
        return texts;
    }

    /// <summary>
    /// Generates <paramref name="tokens"/> tokens after each prompt [batch, promptLength]: samples at
    /// <paramref name="temperature"/> from <paramref name="generator"/>, or takes the most likely token when the
    /// temperature is 0. Returns the generated ids [batch, tokens]. Runs without gradients. Sequences here are a dozen
    /// tokens, so each step recomputes the prefix instead of keeping a KV cache.
    /// </summary>
    public static Tensor Generate(TinyGpt model, Tensor prompts, int tokens, double temperature, Generator? generator)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentOutOfRangeException.ThrowIfNegative(temperature);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var sequence = prompts;
        for (int t = 0; t < tokens; t++)
        {
            // Sampling reads float32 logits whatever the weights' dtype (a no-op for fp32 weights).
            var logits = model.forward(sequence).select(1, -1).to(ScalarType.Float32);
            var next = temperature == 0
                ? logits.argmax(-1, keepdim: true)
                : multinomial((logits / temperature).softmax(-1), 1, replacement: false, generator: generator);
            sequence = cat([sequence, next], 1);
        }
        return sequence.narrow(1, prompts.shape[1], tokens).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Log-probabilities [batch, answerLength] the model gives each answer token of <paramref name="sequences"/>
    /// [batch, promptLength + answerLength], given everything before it.
    /// </summary>
    public static Tensor AnswerLogProbs(TinyGpt model, Tensor sequences, int promptLength)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sequences);
        using var scope = NewDisposeScope();
        long answer = sequences.shape[1] - promptLength;
        var logits = model.forward(sequences.narrow(1, 0, sequences.shape[1] - 1)).narrow(1, promptLength - 1, answer);
        var targets = sequences.narrow(1, promptLength, answer);
        return logits.to(ScalarType.Float32).log_softmax(-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Exact-match accuracy of <paramref name="model"/> on <paramref name="problems"/>, in [0, 1]: greedy when
    /// <paramref name="samples"/> is 0, else the mean over that many completions per problem sampled at temperature 1
    /// from <paramref name="generator"/> (pass@1 averaged over samples).
    /// </summary>
    public static double Accuracy(TinyGpt model, Tasks.VerifiableTask task, IReadOnlyList<Tasks.Problem> problems, int samples = 0, Generator? generator = null, int batch = 2000)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(problems);
        ArgumentOutOfRangeException.ThrowIfNegative(samples);
        if (problems.Count == 0) throw new ArgumentException("No problems to evaluate.", nameof(problems));
        var device = model.parameters().First().device;
        int repeats = Math.Max(1, samples);
        var all = problems.SelectMany(p => Enumerable.Repeat(p, repeats)).ToList();
        double correct = 0;
        foreach (var chunk in all.Chunk(batch))
        {
            using var scope = NewDisposeScope();
            var prompts = Encode(chunk.Select(p => p.Prompt).ToList(), task.Alphabet, device);
            string[] answers = Decode(Generate(model, prompts, task.AnswerLength, samples == 0 ? 0 : 1, generator), task.Alphabet);
            for (int i = 0; i < chunk.Length; i++) correct += task.Reward(chunk[i], answers[i]);
        }
        return correct / all.Count;
    }

    /// <summary>
    /// The exact expected reward of <paramref name="model"/> on <paramref name="problems"/>, in [0, 1]: the mean over
    /// problems of the probability that a completion sampled at temperature 1 is the correct answer, i.e. the product of
    /// the teacher-forced probabilities of its tokens. For an exact-match task with one correct answer this is the
    /// expected reward, with no sampling noise.
    /// </summary>
    public static double ExpectedReward(TinyGpt model, Tasks.VerifiableTask task, IReadOnlyList<Tasks.Problem> problems, int batch = 2000)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(problems);
        if (problems.Count == 0) throw new ArgumentException("No problems to evaluate.", nameof(problems));
        var device = model.parameters().First().device;
        double total = 0;
        using var _ = no_grad();
        foreach (var chunk in problems.Chunk(batch))
        {
            using var scope = NewDisposeScope();
            var sequences = Encode(chunk.Select(p => p.Prompt + p.Answer).ToList(), task.Alphabet, device);
            total += AnswerLogProbs(model, sequences, task.PromptLength).to(ScalarType.Float64).sum(1).exp().sum().item<double>();
        }
        return total / problems.Count;
    }
}
