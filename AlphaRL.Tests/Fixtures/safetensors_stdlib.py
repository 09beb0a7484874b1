"""An independent safetensors writer and checker using only the Python standard library.

  python3 safetensors_stdlib.py write PATH   writes the interop fixture described below
  python3 safetensors_stdlib.py check PATH   validates PATH by the format's rules and prints a JSON summary

The fixture holds, in this data order: "b.bf16" BF16 [2, 2], "a.f32" F32 [2, 3], "c.f16" F16 [4], "d.i64" I64 [3],
with metadata {"format": "pt"} and the header padded with spaces to a multiple of 8, as the reference writer does.
Float tensors hold k * 0.5 - 1 for k = 0, 1, ... (exact in every float type); the I64 tensor holds 7, -8, 9.
"""
import json
import struct
import sys

SIZES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
         "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8}


def values(n):
    return [k * 0.5 - 1 for k in range(n)]


def bf16(x):
    bits = struct.unpack("<I", struct.pack("<f", x))[0]
    return struct.pack("<H", bits >> 16)  # exact for these values: their low 16 bits are zero


def write(path):
    tensors = [
        ("b.bf16", "BF16", [2, 2], b"".join(bf16(x) for x in values(4))),
        ("a.f32", "F32", [2, 3], struct.pack("<6f", *values(6))),
        ("c.f16", "F16", [4], struct.pack("<4e", *values(4))),
        ("d.i64", "I64", [3], struct.pack("<3q", 7, -8, 9)),
    ]
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, dtype, shape, data in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    text = json.dumps(header).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for _, _, _, data in tensors:
            f.write(data)


def decode(dtype, data):
    n = len(data) // SIZES[dtype]
    if dtype == "F32":
        return list(struct.unpack("<%df" % n, data))
    if dtype == "F16":
        return list(struct.unpack("<%de" % n, data))
    if dtype == "BF16":
        return [struct.unpack("<f", struct.pack("<I", h << 16))[0] for h in struct.unpack("<%dH" % n, data)]
    return None


def check(path):
    def pairs_without_duplicates(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise ValueError("duplicate keys")
        return dict(pairs)

    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    assert 8 + n <= len(blob), "header beyond file"
    assert n % 8 == 0, "header not padded to 8 bytes"
    header = json.loads(blob[8:8 + n].decode("utf-8"), object_pairs_hook=pairs_without_duplicates)
    assert blob[8] == ord("{"), "header does not start with {"
    data = blob[8 + n:]
    header.pop("__metadata__", None)
    entries = sorted(header.items(), key=lambda kv: kv[1]["data_offsets"])
    position, summary = 0, {}
    for name, entry in entries:
        begin, end = entry["data_offsets"]
        assert begin == position, "hole or overlap before " + name
        count = 1
        for d in entry["shape"]:
            count *= d
        assert end - begin == count * SIZES[entry["dtype"]], "size mismatch for " + name
        decoded = decode(entry["dtype"], data[begin:end])
        summary[name] = {"dtype": entry["dtype"], "shape": entry["shape"], "sum": sum(decoded) if decoded is not None else None}
        position = end
    assert position == len(data), "trailing bytes"
    print(json.dumps(summary, sort_keys=True))


if __name__ == "__main__":
    {"write": write, "check": check}[sys.argv[1]](sys.argv[2])
