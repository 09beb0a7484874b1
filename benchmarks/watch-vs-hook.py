#!/usr/bin/env python3
"""Helpers of benchmarks/watch-vs-hook.sh (python3 standard library only).

  candidate SERIES LENGTH OUT   writes OUT/model.safetensors: the hook's velocity candidate of jump length LENGTH from
                                the series written by `alpharl-dev hook-series` (hook.json + checkpoint-N folders),
                                (its target step as hook.json records it), computed with the hook's own float32 arithmetic (VelocityJump's Welford running sums),
                                so that its guard score is the hook's bit for bit.
  compare HOOK_JSON WATCH_JSON  prints a table of the candidates of both and PASS or FAIL (exit 0 or 1). W_e's score
                                must be equal; other scores may differ by at most $SCORE_TOL (default 0: equal).
"""
import array
import json
import os
import struct
import sys


def f32(values):
    """Rounds every value to float32 (an operation on float32 operands done in double and rounded once is the float32 one)."""
    return array.array("f", values)


def read_safetensors(path):
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if entry["dtype"] != "F32":
            sys.exit(f"{path}: tensor {name} is {entry['dtype']}, expected F32")
        begin, end = entry["data_offsets"]
        values = array.array("f")
        values.frombytes(data[begin:end])
        tensors[name] = (entry["shape"], values)
    return tensors


def write_safetensors(path, tensors):
    header, offset = {}, 0
    for name, (shape, values) in tensors.items():
        length = len(values) * 4
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + length]}
        offset += length
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for _, values in tensors.values():
            f.write(values.tobytes())


def candidate(series, length, out):
    """W_e + (T - e) * b as VelocityJump.Observe/Apply compute it in float32 (steps counted from the window's start)."""
    record = json.load(open(os.path.join(series, "hook.json")))
    window = record["window"]
    start, last, steps = window["start"], window["last"], window["velocitySnapshots"]
    matches = [c["targetStep"] for c in record["candidates"] if float(c["length"]) == length]
    if not matches:
        sys.exit(f"hook.json has no candidate of length {length}")
    target = matches[0]
    checkpoints = [read_safetensors(os.path.join(series, f"checkpoint-{s}", "model.safetensors")) for s in steps]
    result = {}
    for name, (shape, we) in checkpoints[-1].items():
        mean = com = None
        mean_step = step_comoment = 0.0
        for n, (step, checkpoint) in enumerate(zip(steps, checkpoints), 1):
            t = float(step - start)
            dt = t - mean_step
            mean_step += dt / n
            step_comoment += dt * (t - mean_step)
            w = checkpoint[name][1]
            if n == 1:
                mean, com = array.array("f", w), array.array("f", bytes(4 * len(w)))
                continue
            mean = f32([m + q for m, q in zip(mean, f32([d / n for d in f32([x - m for x, m in zip(w, mean)])]))])
            dt32 = f32([dt])[0]
            com = f32([c + p for c, p in zip(com, f32([d * dt32 for d in f32([x - m for x, m in zip(w, mean)])]))])
        factor = f32([(target - last) / step_comoment])[0]
        result[name] = (shape, f32([x + p for x, p in zip(we, f32([c * factor for c in com]))]))
    write_safetensors(os.path.join(out, "model.safetensors"), result)
    print(target)


def compare(hook_path, watch_path):
    tolerance = float(os.environ.get("SCORE_TOL", "0"))
    hook = json.load(open(hook_path))
    watch = json.load(open(watch_path))
    # alpharl's report is snake_case (target_step, no_jump); hook.json is camelCase.
    camel = lambda k: k.split("_")[0] + "".join(part.title() for part in k.split("_")[1:])
    watch["candidates"] = [{camel(k): v for k, v in c.items()} for c in watch["candidates"]]
    by_length = lambda cs: {float(c["length"]): c for c in cs}
    h, w = by_length(hook["candidates"]), by_length(watch["candidates"])
    ok = True
    print(f"{'j':>5} {'hook step':>9} {'watch step':>10} {'hook score':>22} {'watch score':>22} {'difference':>11} {'kept h/w':>8}  verdict")
    for length in sorted(set(h) | set(w)):
        hc, wc = h.get(length), w.get(length)
        verdict = "ok"
        if hc is None or wc is None:
            verdict = "missing in " + ("hook" if hc is None else "watch")
        else:
            difference = wc["score"] - hc["score"]
            if hc["targetStep"] != wc["targetStep"]:
                verdict = "target step differs"
            elif hc["noJump"] != bool(wc.get("noJump", False)):
                verdict = "noJump differs"
            elif hc["noJump"] and difference != 0:
                verdict = "W_e score differs"
            elif abs(difference) > tolerance:
                verdict = f"score differs beyond {tolerance:g}"
            elif hc["kept"] != bool(wc.get("kept", False)):
                verdict = "kept differs"
        ok &= verdict == "ok"
        cell = lambda c, key, fmt: format(c[key], fmt) if c is not None else "-"
        kept = "/".join("-" if c is None else ("y" if c.get("kept") else "n") for c in (hc, wc))
        diff = f"{wc['score'] - hc['score']:.3g}" if hc and wc else "-"
        print(f"{length:>5g} {cell(hc, 'targetStep', 'd'):>9} {cell(wc, 'targetStep', 'd'):>10} {cell(hc, 'score', '.17g'):>22} "
              f"{cell(wc, 'score', '.17g'):>22} {diff:>11} {kept:>8}  {verdict}")
    hook_kept = next((float(c["length"]) for c in hook["candidates"] if c["kept"]), None)
    watch_kept = next((float(c["length"]) for c in watch["candidates"] if c.get("kept")), None)
    same_kept = hook_kept == watch_kept
    print(f"kept length: hook {hook_kept}, watch {watch_kept} -> {'same' if same_kept else 'DIFFERENT'}")
    ok &= same_kept
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "candidate":
        candidate(sys.argv[2], float(sys.argv[3]), sys.argv[4])
    elif len(sys.argv) == 4 and sys.argv[1] == "compare":
        sys.exit(compare(sys.argv[2], sys.argv[3]))
    else:
        sys.exit(__doc__)
