#!/usr/bin/env python3
"""Writes a small checkpoint series for benchmarks/slurm-check.sh, with the Python standard library only.

    make-series.py DIR [--layers 5] [--rows 128] [--cols 256] [--steps 10,20,30,40,50,60] [--seed 23]

DIR/base/ (W0, step 0) and DIR/checkpoint-N/ for every step N, each holding model.safetensors (F32) and a
config.json. Every layer has one covered matrix model.layers.L.mlp.up_proj.weight (rows x cols) whose update follows
a rank-1 line, W_t = W0 + (a t + b t^2) u v^T + small noise, plus two tensors alpharl copies from the last checkpoint
(model.layers.L.input_layernorm.weight and model.embed_tokens.weight). Deterministic for a given seed; an existing
DIR is left as it is, so re-runs read the same bytes.
"""
import argparse, json, os, random, struct, sys


def write_safetensors(path, tensors):
    """tensors: list of (name, shape, list of floats), written in this order, contiguous, F32 little-endian."""
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, shape, values in tensors:
        size = 4 * len(values)
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # pad so the data starts 8-byte aligned, as the safetensors writer does
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for _, _, values in tensors:
            f.write(struct.pack("<%df" % len(values), *values))
    os.replace(tmp, path)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir")
    p.add_argument("--layers", type=int, default=5)
    p.add_argument("--rows", type=int, default=128)
    p.add_argument("--cols", type=int, default=256)
    p.add_argument("--steps", default="10,20,30,40,50,60")
    p.add_argument("--seed", type=int, default=23)
    a = p.parse_args()
    steps = [int(s) for s in a.steps.split(",")]
    if os.path.exists(os.path.join(a.dir, "checkpoint-%d" % steps[-1], "model.safetensors")):
        print("series already in %s (base, checkpoint-%s)" % (a.dir, ", checkpoint-".join(map(str, steps))))
        return
    rng = random.Random(a.seed)
    rows, cols, vocab = a.rows, a.cols, 64
    layers = []
    for _ in range(a.layers):
        w0 = [rng.gauss(0.0, 0.02) for _ in range(rows * cols)]
        u = [rng.gauss(0.0, 1.0) for _ in range(rows)]
        v = [rng.gauss(0.0, 1.0) for _ in range(cols)]
        nu, nv = sum(x * x for x in u) ** 0.5, sum(x * x for x in v) ** 0.5
        uv = [ui / nu * vj / nv for ui in u for vj in v]  # unit-norm rank-1 direction
        slope, curve = rng.uniform(0.02, 0.04), rng.uniform(-1e-5, 1e-5)  # x(t) = slope t + curve t^2, a near line
        norm = [1.0 + rng.gauss(0.0, 0.01) for _ in range(cols)]
        layers.append((w0, uv, slope, curve, norm))
    embed = [rng.gauss(0.0, 0.02) for _ in range(vocab * cols)]
    config = {"model_type": "alpharl-slurm-check", "num_hidden_layers": a.layers, "hidden_size": cols, "intermediate_size": rows}
    for step in [0] + steps:
        folder = os.path.join(a.dir, "base" if step == 0 else "checkpoint-%d" % step)
        os.makedirs(folder, exist_ok=True)
        tensors = [("model.embed_tokens.weight", (vocab, cols), embed)]
        for layer, (w0, uv, slope, curve, norm) in enumerate(layers):
            x = slope * step + curve * step * step
            noise = 2e-4 if step else 0.0
            up = [w + x * d + rng.gauss(0.0, noise) if noise else w for w, d in zip(w0, uv)]
            tensors.append(("model.layers.%d.input_layernorm.weight" % layer, (cols,), [n + 1e-4 * step for n in norm]))
            tensors.append(("model.layers.%d.mlp.up_proj.weight" % layer, (rows, cols), up))
        write_safetensors(os.path.join(folder, "model.safetensors"), tensors)
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(config, f, indent=2)
            f.write("\n")
    print("wrote %s: base (step 0) and checkpoint-%s, %d covered %dx%d F32 matrices each"
          % (a.dir, ", checkpoint-".join(map(str, steps)), a.layers, rows, cols))


if __name__ == "__main__":
    sys.exit(main())
