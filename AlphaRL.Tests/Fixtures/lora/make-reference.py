"""Builds the LoRA fixtures and computes, independently of AlphaRL, what `alpharl predict` must write for them.

  /usr/bin/python3 make-reference.py [OUTDIR]     (default: the folder of this script)

Writes, for each precision P in f32 and bf16:
  base-P/model.safetensors, base-P/config.json    a tiny base model: embed_tokens [10, 16], q/k/v_proj [24, 16], norm [16]
  P/checkpoint-S/adapter_model.safetensors         a PEFT LoRA adapter (r = 4, lora_alpha = 8, targets q_proj and v_proj)
  P/checkpoint-S/adapter_config.json               at steps S = 10, 20, 30, 40 (a fresh LoRA at step 0 has B = 0)
  expected/P-velocity-step60.safetensors           the adapter predicted for step 60 by the velocity method
  expected/P-direction-step60.safetensors          ... by the direction method (lora_B scaled by (60 - 0)/(40 - 0))
  expected/P-merged-step60.safetensors             the base with the velocity prediction merged in: W + (alpha/r) B A

The math is NumPy in float64; each result is cast once to the tensor's dtype (F32; BF16 = the upper 16 bits of the
float32, rounded to nearest even). The merge multiplies the predicted factors as stored (rounded to their dtype), as
they would be read back from the predicted adapter. Only numpy and the standard library are used; the safetensors
files are written byte by byte here (8-byte little-endian header length, JSON header padded with spaces, raw data).
"""
import json
import os
import struct
import sys

import numpy as np

STEPS = [10, 20, 30, 40]
TARGET = 60
BASE_STEP = 0
RANK, ALPHA = 4, 8
SCALE = ALPHA / RANK
OUT, IN = 24, 16
MODULES = ["q_proj", "v_proj"]
PREFIX = "base_model.model."


def to_bf16_bits(x):
    """float64 -> float32 -> bfloat16 bits, round to nearest even (the values here are finite)."""
    bits = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)


def from_bf16_bits(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32).astype(np.float64)


def stored(x, dtype):
    """The values as stored in dtype, back as float64."""
    if dtype == "F32":
        return np.asarray(x, dtype=np.float32).astype(np.float64)
    return from_bf16_bits(to_bf16_bits(x))


def encode(x, dtype):
    if dtype == "F32":
        return np.asarray(x, dtype="<f4").tobytes()
    return to_bf16_bits(x).astype("<u2").tobytes()


def write_safetensors(path, tensors):
    """tensors: list of (name, dtype, float64 array); each is cast to its dtype."""
    header, blobs, offset = {}, [], 0
    for name, dtype, values in tensors:
        data = encode(values, dtype)
        header[name] = {"dtype": dtype, "shape": list(values.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def write_json(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(value, f, indent=2)
        f.write("\n")


def adapter_config():
    return {
        "alpha_pattern": {}, "base_model_name_or_path": "synthetic/tiny-base", "bias": "none", "fan_in_fan_out": False,
        "inference_mode": True, "init_lora_weights": True, "lora_alpha": ALPHA, "lora_dropout": 0.0, "modules_to_save": None,
        "peft_type": "LORA", "r": RANK, "rank_pattern": {}, "target_modules": ["v_proj", "q_proj"], "task_type": "CAUSAL_LM",
        "use_dora": False, "use_rslora": False,
    }


def base_weight(module):
    return f"model.layers.0.self_attn.{module}.weight"


def factor(module, which):
    return f"{PREFIX}model.layers.0.self_attn.{module}.lora_{which}.weight"


def welford_jump(xs, steps, origin, target):
    """W_e + (T - e) * comoment / sum((t - mean t)^2), the running sums kept in float32 and updated in this order:
    mean += (w - mean) / n, then comoment += (w - mean) * (t - mean t before the update); the step scalars in float64."""
    n, mean_t, s = 0, 0.0, 0.0
    mean = comoment = None
    for x, step in zip(xs, steps):
        t = float(step - origin)
        n += 1
        dt = t - mean_t
        mean_t += dt / n
        s += dt * (t - mean_t)
        x = x.astype(np.float32)
        if n == 1:
            mean, comoment = x.copy(), np.zeros_like(x)
            continue
        mean = mean + (x - mean) / np.float32(n)
        comoment = comoment + (x - mean) * np.float32(dt)
    return xs[-1].astype(np.float32) + comoment * np.float32((target - steps[-1]) / s)


def build(out, precision, dtype, seed):
    rng = np.random.default_rng(seed)
    base = [
        ("model.embed_tokens.weight", dtype, rng.normal(0, 0.5, (10, IN))),
        (base_weight("q_proj"), dtype, rng.normal(0, 0.25, (OUT, IN))),
        (base_weight("k_proj"), dtype, rng.normal(0, 0.25, (OUT, IN))),
        (base_weight("v_proj"), dtype, rng.normal(0, 0.25, (OUT, IN))),
        ("model.norm.weight", dtype, 1 + rng.normal(0, 0.1, IN)),
    ]
    write_safetensors(f"{out}/base-{precision}/model.safetensors", base)
    write_json(f"{out}/base-{precision}/config.json", {"model_type": "llama", "hidden_size": IN, "torch_dtype": "float32" if dtype == "F32" else "bfloat16"})
    base_values = {name: stored(values, dtype) for name, dtype, values in base}

    # A path that bends: A drifts from its random init, B grows from zero with a quadratic term, plus noise.
    paths = {}
    for module in MODULES:
        a0, da = rng.normal(0, 1 / np.sqrt(IN), (RANK, IN)), rng.normal(0, 0.05, (RANK, IN))
        db, eb = rng.normal(0, 0.02, (OUT, RANK)), rng.normal(0, 0.01, (OUT, RANK))
        for step in STEPS:
            t = step / STEPS[-1]
            paths[(step, factor(module, "A"))] = a0 + t * da + rng.normal(0, 0.002, a0.shape)
            paths[(step, factor(module, "B"))] = t * db + t * t * eb + rng.normal(0, 0.001, db.shape)
    names = [factor(m, w) for m in MODULES for w in "AB"]
    for step in STEPS:
        folder = f"{out}/{precision}/checkpoint-{step}"
        write_safetensors(f"{folder}/adapter_model.safetensors", [(n, dtype, paths[(step, n)]) for n in names])
        write_json(f"{folder}/adapter_config.json", adapter_config())

    # Velocity: each weight's least-squares slope over the stored values, W_e + (T - e) b, computed as the product
    # defines it (docs/jump-methods.md): float32 running mean and co-moment updated by Welford's recurrence, steps
    # from the base step; the float64 least-squares slope is printed beside it as a check of the recurrence.
    velocity, direction = {}, {}
    for n in names:
        x = np.stack([stored(paths[(s, n)], dtype) for s in STEPS])
        velocity[n] = stored(welford_jump(x, STEPS, BASE_STEP, TARGET), dtype)
        tau = np.array(STEPS, dtype=np.float64) - BASE_STEP
        centered = tau - tau.mean()
        slope = np.tensordot(centered, x - x.mean(axis=0), axes=1) / (centered @ centered)
        exact = x[-1] + (TARGET - STEPS[-1]) * slope
        print(f"{precision} {n}: float32 recurrence vs float64 slope, max relative difference "
              f"{np.max(np.abs(welford_jump(x, STEPS, BASE_STEP, TARGET) - exact)) / np.max(np.abs(exact)):.2e}", file=sys.stderr)
        c = (TARGET - BASE_STEP) / (STEPS[-1] - BASE_STEP) if n.endswith("lora_B.weight") else 1.0
        direction[n] = stored(c * x[-1], dtype)
    write_safetensors(f"{out}/expected/{precision}-velocity-step{TARGET}.safetensors", [(n, dtype, velocity[n]) for n in names])
    write_safetensors(f"{out}/expected/{precision}-direction-step{TARGET}.safetensors", [(n, dtype, direction[n]) for n in names])

    merged = []
    for name, _, _ in base:
        w = base_values[name]
        module = next((m for m in MODULES if base_weight(m) == name), None)
        if module is not None:
            w = w + SCALE * (velocity[factor(module, "B")] @ velocity[factor(module, "A")])
        merged.append((name, dtype, w))
    write_safetensors(f"{out}/expected/{precision}-merged-step{TARGET}.safetensors", merged)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    build(out, "f32", "F32", seed=23)
    build(out, "bf16", "BF16", seed=24)


if __name__ == "__main__":
    main()
