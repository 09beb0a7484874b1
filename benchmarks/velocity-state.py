"""How far other representations of the velocity's state move its jump, against the float64 least-squares jump.

    /usr/bin/python3 benchmarks/velocity-state.py SERIES STEPS TARGET [f32|bf16] [DRIFT]

SERIES holds base/model.safetensors and checkpoint-N/model.safetensors (F32), e.g. the hook's series written by
`alpharl-dev hook-series --out SERIES` (benchmarks/watch-vs-hook.sh) or benchmarks/slurm/make-series.py; STEPS are the
checkpoints the velocity uses (comma-separated), TARGET the step jumped to; bf16 rounds the weights to bfloat16 first.
Prints ||jump - exact|| / ||exact correction|| over the 2-D tensors for: the current state (float32 running mean and
co-moment of W, Welford), the same centred on W0 (W_t - W0, exact in float32 within a factor 2 of W0), centred and kept
in float16 or bfloat16, and a closed form with one accumulator sum_k c_k (W_k - W0) (possible only when the window's
snapshot steps are known in advance), a float16 pair scaled per tensor, and int8 pairs with one scale per 64 values.
DRIFT = k centres on W0 - k (W_last - W0) instead of W0: a later window, which starts k times its own movement away
from the session's W0 (the hook's W0 stays the session's). Needs NumPy (Debian's python3-numpy).
"""
import json, struct, sys, numpy as np
def load(p):
    b=open(p,'rb').read(); n=struct.unpack('<Q',b[:8])[0]; h=json.loads(b[8:8+n]); d=b[8+n:]
    return {k:np.frombuffer(d[v['data_offsets'][0]:v['data_offsets'][1]],dtype=np.float32) for k,v in h.items() if k!='__metadata__' and len(v['shape'])==2}
S, steps, target, base_dtype = sys.argv[1], [int(x) for x in sys.argv[2].split(',')], int(sys.argv[3]), sys.argv[4] if len(sys.argv)>4 else 'f32'
drift = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0
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
def q8(x, block=64):  # int8 with one absmax scale per `block` values
    f = x.reshape(-1); g = np.concatenate([f, np.zeros((-len(f)) % block)]).reshape(-1, block)
    sc = np.abs(g).max(1, keepdims=True) / 127; sc[sc == 0] = 1
    return (np.round(g / sc) * sc).reshape(-1)[:len(f)].reshape(x.shape)
def welford(xs, state, store_mean=None, store_cm=None):  # running mean and co-moment, each stored after every update
    fm = store_mean or (lambda v: rnd(v, state)); fc = store_cm or (lambda v: rnd(v, state))
    n = mt = s = 0; m = cm = None
    for x, st in zip(xs, steps):
        n += 1; d = st - mt; mt += d / n; s += d * (st - mt)
        x = x.astype(np.float32)
        if n == 1: m, cm = fm(x), np.zeros_like(x); continue
        m = fm(m + (x - m) / np.float32(n)); cm = fc(cm + (x - m) * np.float32(d))
    return cm / s
def closed(xs, state):  # one accumulator sum_k c_k x_k (window known in advance)
    acc = np.zeros_like(xs[0])
    for ck, x in zip(c, xs): acc = rnd(acc + np.float32(ck) * x, state)
    return acc
rows = {}
for k in W0:
    xs = [w[k].astype(np.float64) for w in ws]; e = xs[-1]
    exact = (target - steps[-1]) * sum(ck * x for ck, x in zip(c, xs))
    R = rnd((W0[k] - drift * (ws[-1][k] - W0[k])).astype(np.float32), base_dtype)  # W0, or a reference `drift` windows back
    D = [rnd(x - R, 'f32') for x in xs]  # W_t - W0, exact in float32 when W_t is within 2x of W0
    big = max(np.abs(D[-1]).max(), 1e-30); sm, sc = 1024 / big, 1024 / (big * (steps[-1] - steps[0]))
    f16 = lambda scale: (lambda v: (v * scale).astype(np.float16).astype(np.float32) / scale)
    cands = {
        'current: float32 mean+comoment of W (8 B/w)': welford(xs, 'f32'),
        'W0-centred float32 mean+comoment (8 B/w)': welford(D, 'f32'),
        'W0-centred float16 mean+comoment (4 B/w)': welford(D, 'f16'),
        'W0-centred bfloat16 mean+comoment (4 B/w)': welford(D, 'bf16'),
        'W0-centred closed form, 1 float16 sum (2 B/w)': closed(D, 'f16'),
        'W0-centred closed form, 1 bfloat16 sum (2 B/w)': closed(D, 'bf16'),
        'W0-centred closed form, 1 float32 sum (4 B/w)': closed(D, 'f32'),
        'W0-centred float16 pair, scaled per tensor (4 B/w)': welford(D, 'f32', f16(sm), f16(sc)),
        'W0-centred int8 pair, a scale per 64 (2 B/w)': welford(D, 'f32', q8, q8),
    }
    for name, b in cands.items():
        err = (target - steps[-1]) * b.astype(np.float64) - exact
        num, den = rows.get(name, (0, 0)); rows[name] = (num + (err**2).sum(), den + (exact**2).sum())
print(f"series {S}, steps {steps}, target {target}, weights {base_dtype}, centre W0 - {drift:g} (W_last - W0)")
for name, (num, den) in rows.items(): print(f"  {name:52s} ||jump - exact|| / ||exact correction|| = {np.sqrt(num/den):.2e}")
