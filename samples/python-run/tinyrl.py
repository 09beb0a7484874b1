"""What train.py and eval.py share: the toy task, the tiny policy, and safetensors read/write with the standard library.

Task: given a and b in [0, k), choose the action (a + b) mod k; reward 1 when right, else 0 (a verifiable reward).
Policy: one-hot(a) ++ one-hot(b) -> model.embed_in (64) -> two gated MLP blocks with residuals, named like Hugging Face
modules (model.layers.N.mlp.gate_proj / up_proj / down_proj, 128x64 and 64x128) -> model.norm -> lm_head (k logits).
"""
import json
import os
import struct
import sys

import torch
import torch.nn.functional as F

if sys.byteorder != "little":
    raise SystemExit("this sample writes safetensors (little-endian) from native bytes; a little-endian machine is needed")

SINGLE_FILE = "model.safetensors"


def init_weights(k, hidden=64, inner=128, layers=2, seed=0):
    """W0: the policy's weights, a dict name -> float32 tensor (HF-style names)."""
    g = torch.Generator().manual_seed(seed)

    def uniform(rows, cols):  # nn.Linear's default initialisation, drawn from our own generator
        bound = 1.0 / cols ** 0.5
        return (torch.rand(rows, cols, generator=g) * 2 - 1) * bound

    w = {"model.embed_in.weight": uniform(hidden, 2 * k)}
    for i in range(layers):
        p = f"model.layers.{i}.mlp."
        w[p + "gate_proj.weight"] = uniform(inner, hidden)
        w[p + "up_proj.weight"] = uniform(inner, hidden)
        w[p + "down_proj.weight"] = uniform(hidden, inner)
        w[f"model.layers.{i}.post_attention_layernorm.weight"] = torch.ones(hidden)
    w["model.norm.weight"] = torch.ones(hidden)
    w["lm_head.weight"] = uniform(k, hidden)
    return w


def actions(w):
    return w["lm_head.weight"].shape[0]


def rms_norm(h):
    return h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + 1e-6)


def logits(w, a, b):
    """The policy's logits for the contexts (a, b): a batch of k-way choices."""
    k = actions(w)
    x = torch.cat([F.one_hot(a, k), F.one_hot(b, k)], dim=-1).float()
    h = x @ w["model.embed_in.weight"].T
    i = 0
    while f"model.layers.{i}.mlp.up_proj.weight" in w:
        p = f"model.layers.{i}.mlp."
        n = rms_norm(h) * w[f"model.layers.{i}.post_attention_layernorm.weight"]
        h = h + (F.silu(n @ w[p + "gate_proj.weight"].T) * (n @ w[p + "up_proj.weight"].T)) @ w[p + "down_proj.weight"].T
        i += 1
    h = rms_norm(h) * w["model.norm.weight"]
    return h @ w["lm_head.weight"].T


def target(a, b, k):
    return (a + b) % k


def evaluation_set(k):
    """The fixed evaluation set: every (a, b) pair once, in order (training samples pairs at random)."""
    a = torch.arange(k).repeat_interleave(k)
    b = torch.arange(k).repeat(k)
    return a, b


@torch.no_grad()
def evaluate(w):
    """(expected reward, greedy accuracy) on the evaluation set: the mean probability of the right action, and the
    share of pairs whose most likely action is right. Deterministic: no sampling."""
    k = actions(w)
    a, b = evaluation_set(k)
    p = torch.softmax(logits(w, a, b).double(), dim=-1)
    right = target(a, b, k)
    expected = p.gather(1, right[:, None]).mean().item()
    greedy = (p.argmax(-1) == right).double().mean().item()
    return expected, greedy


# --- safetensors with the standard library -------------------------------------------------------------------------

def save_safetensors(path, tensors, metadata=None):
    """Writes an F32 safetensors file at path, atomically (a temporary name beside it, then os.replace)."""
    header, chunks, offset = {}, [], 0
    for name, t in tensors.items():
        data = bytes(t.detach().to(torch.float32).contiguous().view(torch.uint8).flatten().tolist())
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {str(key): str(value) for key, value in metadata.items()}
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)  # pad the header with spaces to 8 bytes, as the reference writer does
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for chunk in chunks:
            f.write(chunk)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_safetensors(path):
    """Reads a safetensors file (F32, F16 or BF16 tensors) into a dict name -> float32 tensor, checking its length."""
    dtypes = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        if end > len(data):
            raise ValueError(f"{path}: tensor {name} ends at byte {end} of a {len(data)}-byte data section")
        dtype = dtypes[info["dtype"]]
        t = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype) if end > begin else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info["shape"]).to(torch.float32)
    return out


def load_candidate(path):
    """The weights of a checkpoint: a .safetensors file, or a folder holding model.safetensors (or shards listed by
    model.safetensors.index.json)."""
    if os.path.isfile(path):
        return load_safetensors(path)
    single = os.path.join(path, SINGLE_FILE)
    if os.path.isfile(single):
        return load_safetensors(single)
    index = os.path.join(path, SINGLE_FILE + ".index.json")
    if os.path.isfile(index):
        with open(index) as f:
            shards = sorted(set(json.load(f)["weight_map"].values()))
        w = {}
        for shard in shards:
            w.update(load_safetensors(os.path.join(path, shard)))
        return w
    raise FileNotFoundError(f"{path}: neither a .safetensors file nor a folder with {SINGLE_FILE} or its index")
