"""Scores a checkpoint of the tiny policy for `alpharl ... --score-command "python3 eval.py"`.

  python3 eval.py CANDIDATE      CANDIDATE: a folder holding model.safetensors (or its shards), or a .safetensors file;
                                 without an argument, the path in ALPHARL_CANDIDATE.

The last line of standard output is the score, the policy's expected reward on the fixed evaluation set (every (a, b)
pair, no sampling; higher is better), then the greedy accuracy as a secondary metric: `0.7134 greedy=0.8125`.
"""
import os
import sys

import tinyrl


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("ALPHARL_CANDIDATE")
    if not path:
        sys.exit("usage: python3 eval.py CANDIDATE (a folder with model.safetensors, or a .safetensors file)")
    try:
        weights = tinyrl.load_candidate(path)
    except (OSError, ValueError, KeyError) as e:  # missing, truncated or foreign file: exit 1 with the reason
        sys.exit(f"eval.py: {e}")
    expected, greedy = tinyrl.evaluate(weights)
    print(f"{path}: expected reward {expected:.6f}, greedy accuracy {greedy:.6f}", file=sys.stderr)
    # repr-free, invariant format: '.' as the decimal point whatever the locale
    print(f"{expected:.6f} greedy={greedy:.6f}")


if __name__ == "__main__":
    main()
