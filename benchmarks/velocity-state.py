"""How far other representations of the velocity's state move its jump, against the float64 least-squares jump.

    /usr/bin/python3 benchmarks/velocity-state.py SERIES STEPS TARGET [f32|bf16]

SERIES holds base/model.safetensors and checkpoint-N/model.safetensors (F32), e.g. the hook's series written by
`alpharl-dev hook-series --out SERIES` (benchmarks/watch-vs-hook.sh) or benchmarks/slurm/make-series.py; STEPS are the
checkpoints the velocity uses (comma-separated), TARGET the step jumped to; bf16 rounds the weights to bfloat16 first.
Prints ||jump - exact|| / ||exact correction|| over the 2-D tensors for: the current state (float32 running mean and
co-moment of W, Welford), the same centred on W0 (W_t - W0, exact in float32 within a factor 2 of W0), centred and kept
in float16 or bfloat16, and a closed form with one accumulator sum_k c_k (W_k - W0) (possible only when the window's
snapshot steps are known in advance). Needs NumPy (Debian's python3-numpy).
"""
import json, struct, sys, numpy as np
def load(p):
    b=open(p,'rb').read(); n=struct.unpack('<Q',b[:8])[0]; h=json.loads(b[8:8+n]); d=b[8+n:]
    return {k:np.frombuffer(d[v['data_offsets'][0]:v['data_offsets'][1]],dtype=np.float32) for k,v in h.items() if k!='__metadata__' and len(v['shape'])==2}
S, steps, target, base_dtype = sys.argv[1], [int(x) for x in sys.argv[2].split(',')], int(sys.argv[3]), sys.argv[4] if len(sys.argv)>4 else 'f32'
W0 = load(f'{S}/base/model.safetensors')
ws = [load(f'{S}/checkpoint-{s}/model.safetensors') for s in steps]
def rnd(x, dt):
    if dt == 'f32': return x.astype(np.float32)
    if dt == 'f16': return x.astype(np.float16).astype(np.float32)
    if dt == 'bf16':
        b = x.astype(np.float32).view(np.uint32); b = ((b + 0x7FFF + ((b >> 16) & 1)) >> 16) << 16
        return b.astype(np.uint32).view(np.float32)
if base_dtype == 'bf16':  # emulate bf16 weights
    W0 = {k: rnd(v, 'bf16') for k, v in W0.items()}; ws = [{k: rnd(v, 'bf16') for k, v in w.items()} for w in ws]
t = np.array(steps, float); c = (t - t.mean()) / ((t - t.mean())**2).sum()
def welford(xs, state):  # running mean and co-moment, each stored in `state` dtype after every update
    n = mt = s = 0; m = cm = None
    for x, st in zip(xs, steps):
        n += 1; d = st - mt; mt += d / n; s += d * (st - mt)
        x = x.astype(np.float32)
        if n == 1: m, cm = rnd(x, state), np.zeros_like(x); continue
        m = rnd(m + (x - m) / np.float32(n), state); cm = rnd(cm + (x - m) * np.float32(d), state)
    return cm / s
def closed(xs, state):  # one accumulator sum_k c_k x_k (window known in advance)
    acc = np.zeros_like(xs[0])
    for ck, x in zip(c, xs): acc = rnd(acc + np.float32(ck) * x, state)
    return acc
rows = {}
for k in W0:
    xs = [w[k].astype(np.float64) for w in ws]; e = xs[-1]
    exact = (target - steps[-1]) * sum(ck * x for ck, x in zip(c, xs))
    D = [rnd(x - W0[k], 'f32') for x in xs]  # W_t - W0, exact in float32 when W_t is within 2x of W0
    cands = {
        'current: float32 mean+comoment of W (8 B/w)': welford(xs, 'f32'),
        'W0-centred float32 mean+comoment (8 B/w)': welford(D, 'f32'),
        'W0-centred float16 mean+comoment (4 B/w)': welford(D, 'f16'),
        'W0-centred bfloat16 mean+comoment (4 B/w)': welford(D, 'bf16'),
        'W0-centred closed form, 1 float16 sum (2 B/w)': closed(D, 'f16'),
        'W0-centred closed form, 1 bfloat16 sum (2 B/w)': closed(D, 'bf16'),
        'W0-centred closed form, 1 float32 sum (4 B/w)': closed(D, 'f32'),
    }
    for name, b in cands.items():
        err = (target - steps[-1]) * b.astype(np.float64) - exact
        num, den = rows.get(name, (0, 0)); rows[name] = (num + (err**2).sum(), den + (exact**2).sum())
print(f"series {S}, steps {steps}, target {target}, weights {base_dtype}")
for name, (num, den) in rows.items(): print(f"  {name:52s} ||jump - exact|| / ||exact correction|| = {np.sqrt(num/den):.2e}")
