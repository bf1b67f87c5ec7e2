#!/usr/bin/env python3
"""Compiles the generated CUDA module with NVRTC (from PyPI: nvidia-cuda-nvrtc-cu12) for every
shipped architecture, and reports each kernel's registers, shared memory and spills (ptxas, run by
NVRTC with -v).

  scripts/cuda-kernels.py check SRC            compile for every target; fail on any error or spill
  scripts/cuda-kernels.py build SRC OUTDIR     also write OUTDIR/sm_XX.cubin, OUTDIR/compute_61.ptx
                                               and OUTDIR/manifest.json (source hash, versions,
                                               per-kernel resources)

No GPU and no CUDA driver are needed. NVRTC is found in the nvidia-cuda-nvrtc-cu12 wheel of the
running Python, or through $FLUXMINER_NVRTC (path of libnvrtc.so.12).
"""

import ctypes
import glob
import hashlib
import json
import os
import re
import sys

ARCHS = [61, 70, 75, 80, 86, 89, 90, 120]
PTX_ARCH = 61  # JIT fallback for architectures without a cubin (any newer card)
OPTIONS = ["-std=c++17", "--use_fast_math", "-default-device"]


def find_nvrtc():
    env = os.environ.get("FLUXMINER_NVRTC")
    if env:
        return env
    for p in sys.path:
        hits = glob.glob(os.path.join(p, "nvidia", "cuda_nvrtc", "lib", "libnvrtc.so.*"))
        hits = [h for h in hits if "builtins" not in h and ".alt." not in h]
        if hits:
            return sorted(hits)[0]
    sys.exit("NVRTC not found: pip install nvidia-cuda-nvrtc-cu12 (or set FLUXMINER_NVRTC)")


class Nvrtc:
    def __init__(self, path):
        self.lib = ctypes.CDLL(path)
        self.lib.nvrtcGetErrorString.restype = ctypes.c_char_p

    def check(self, rc, what):
        if rc != 0:
            raise RuntimeError(f"{what}: {self.lib.nvrtcGetErrorString(rc).decode()}")

    def version(self):
        major, minor = ctypes.c_int(), ctypes.c_int()
        self.check(self.lib.nvrtcVersion(ctypes.byref(major), ctypes.byref(minor)), "version")
        return f"{major.value}.{minor.value}"

    def compile(self, src, arch, cubin):
        prog = ctypes.c_void_p()
        self.check(
            self.lib.nvrtcCreateProgram(
                ctypes.byref(prog), src.encode(), b"fluxminer.cu", 0, None, None
            ),
            "create",
        )
        target = f"-arch={'sm' if cubin else 'compute'}_{arch}"
        opts = OPTIONS + [target] + (["--ptxas-options=-v"] if cubin else [])
        arr = (ctypes.c_char_p * len(opts))(*[o.encode() for o in opts])
        rc = self.lib.nvrtcCompileProgram(prog, len(opts), arr)
        size = ctypes.c_size_t()
        self.lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
        log = ctypes.create_string_buffer(size.value)
        self.lib.nvrtcGetProgramLog(prog, log)
        log = log.value.decode(errors="replace")
        if rc != 0:
            self.lib.nvrtcDestroyProgram(ctypes.byref(prog))
            raise RuntimeError(f"{target}: compile failed:\n{log}")
        get_size, get = (
            (self.lib.nvrtcGetCUBINSize, self.lib.nvrtcGetCUBIN)
            if cubin
            else (self.lib.nvrtcGetPTXSize, self.lib.nvrtcGetPTX)
        )
        self.check(get_size(prog, ctypes.byref(size)), "size")
        out = ctypes.create_string_buffer(size.value)
        self.check(get(prog, out), "get")
        self.lib.nvrtcDestroyProgram(ctypes.byref(prog))
        return out.raw[: size.value], log


def resources(log):
    """Per kernel: registers, shared memory bytes, spill stores and loads (ptxas -v)."""
    kernels, name = {}, None
    for line in log.splitlines():
        m = re.search(r"Compiling entry function '(\w+)'", line)
        if m:
            name = m.group(1)
            kernels[name] = {"registers": 0, "smem": 0, "spill_stores": 0, "spill_loads": 0}
            continue
        if name is None:
            continue
        m = re.search(r"(\d+) bytes spill stores, (\d+) bytes spill loads", line)
        if m:
            kernels[name]["spill_stores"] = int(m.group(1))
            kernels[name]["spill_loads"] = int(m.group(2))
        m = re.search(r"Used (\d+) registers", line)
        if m:
            kernels[name]["registers"] = int(m.group(1))
        m = re.search(r"(\d+) bytes smem", line)
        if m:
            kernels[name]["smem"] = int(m.group(1))
    return kernels


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("check", "build"):
        sys.exit(__doc__)
    mode, src_path = sys.argv[1], sys.argv[2]
    out_dir = sys.argv[3] if mode == "build" else None
    src = open(src_path).read()
    nvrtc = Nvrtc(find_nvrtc())
    manifest = {
        "source": os.path.basename(src_path),
        "source_blake2b": hashlib.blake2b(src.encode(), digest_size=16).hexdigest(),
        "nvrtc": nvrtc.version(),
        "options": OPTIONS,
        "targets": {},
    }
    spills = []
    for arch in ARCHS:
        cubin, log = nvrtc.compile(src, arch, cubin=True)
        kernels = resources(log)
        if not kernels:
            raise RuntimeError(f"sm_{arch}: no ptxas report in the log:\n{log}")
        manifest["targets"][f"sm_{arch}"] = {"file": f"sm_{arch}.cubin", "kernels": kernels}
        for k, r in sorted(kernels.items()):
            print(
                f"sm_{arch:<4} {k:<14} {r['registers']:>3} registers {r['smem']:>6} B smem "
                f"spills {r['spill_stores']}/{r['spill_loads']} B"
            )
            if r["spill_stores"] or r["spill_loads"]:
                spills.append(f"sm_{arch} {k}")
        if out_dir:
            os.makedirs(out_dir, exist_ok=True)
            open(os.path.join(out_dir, f"sm_{arch}.cubin"), "wb").write(cubin)
    ptx, _ = nvrtc.compile(src, PTX_ARCH, cubin=False)
    manifest["ptx"] = f"compute_{PTX_ARCH}.ptx"
    if out_dir:
        open(os.path.join(out_dir, manifest["ptx"]), "wb").write(ptx.rstrip(b"\0"))
        with open(os.path.join(out_dir, "manifest.json"), "w") as f:
            json.dump(manifest, f, indent=1, sort_keys=True)
            f.write("\n")
    if spills:
        sys.exit("register spills: " + ", ".join(spills))
    print(f"ok: {len(ARCHS)} targets + compute_{PTX_ARCH} PTX, NVRTC {manifest['nvrtc']}, no spills")


if __name__ == "__main__":
    main()
