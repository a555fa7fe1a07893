#!/usr/bin/env python3
"""Where the bytes of a wasm module go: code per function family and data.

Reads a wasm file that still has its name section (the cargo artifact, or
wasm-bindgen's output run through `wasm-opt -Os -g` to see the shipped
code), sums the code-section body size of every function and groups them:

  --by crate    by crate/bucket (obslab::ui, obslab::query, leptos ...)
  --by module   by module path to the given --depth
  --by family   by function name without its hash: a generic family,
                with the number of monomorphised instances
  --gz          also each group's marginal gzip cost: how much smaller the
                gzip -9 of all code bodies gets without that group (slow
                for --by family; gzip is not additive, so this is a guide)

Also prints the data section's size and the number of panic locations
(16-byte `core::panic::Location`s pointing at a file path string).

  python3 scripts/wasm_breakdown.py target/x/g.wasm --by crate
"""

import argparse
import collections
import gzip
import re
import struct
import sys


def leb(b, i, signed=False):
    """An unsigned (or signed) LEB128 number at b[i]: (value, next index)."""
    r = s = 0
    while True:
        x = b[i]
        i += 1
        r |= (x & 0x7F) << s
        s += 7
        if x < 0x80:
            if signed and x & 0x40:
                r -= 1 << s
            return r, i


def sleb(b, i):
    return leb(b, i, signed=True)


def sections(b):
    assert b[:4] == b"\0asm", "not a wasm file"
    i = 8
    while i < len(b):
        sid = b[i]
        size, i = leb(b, i + 1)
        yield sid, i, size
        i += size


def function_names(b, off, size):
    """The "function names" subsection of the custom `name` section."""
    n, i = leb(b, off)
    i += n  # the section's own name, "name"
    names = {}
    end = off + size
    while i < end:
        kind = b[i]
        sub, i = leb(b, i + 1)
        if kind == 1:
            j = i
            count, j = leb(b, j)
            for _ in range(count):
                idx, j = leb(b, j)
                ln, j = leb(b, j)
                names[idx] = b[j:j + ln].decode("utf-8", "replace")
                j += ln
        i += sub
    return names


def imported_functions(b, off):
    count, i = leb(b, off)
    funcs = 0
    for _ in range(count):
        for _ in range(2):  # module, field
            ln, i = leb(b, i)
            i += ln
        kind = b[i]
        i += 1
        if kind == 0:
            _, i = leb(b, i)
            funcs += 1
        elif kind == 1:  # table: reftype, limits
            i += 1
            flag = b[i]
            _, i = leb(b, i + 1)
            if flag & 1:
                _, i = leb(b, i)
        elif kind == 2:  # memory: limits
            flag = b[i]
            _, i = leb(b, i + 1)
            if flag & 1:
                _, i = leb(b, i)
        elif kind == 3:  # global: type, mutability
            i += 2
        else:
            raise ValueError(f"import kind {kind}")
    return funcs


def data_segments(b, off):
    count, i = leb(b, off)
    segs = []
    for _ in range(count):
        flag, i = leb(b, i)
        addr = None
        if flag in (0, 2):
            if flag == 2:
                _, i = leb(b, i)
            assert b[i] == 0x41, "only i32.const offsets"
            addr, i = sleb(b, i + 1)
            assert b[i] == 0x0B
            i += 1
        ln, i = leb(b, i)
        segs.append((addr, b[i:i + ln]))
        i += ln
    return segs


def panic_locations(segs):
    """Counts `Location { file: &str, line, col }` records by file."""
    live = [(a, d) for a, d in segs if a is not None]
    if not live:
        return collections.Counter()
    base = min(a for a, _ in live)
    mem = bytearray(max(a + len(d) for a, d in live) - base)
    for a, d in live:
        mem[a - base:a - base + len(d)] = d
    mem = bytes(mem)
    files = collections.Counter()
    for m in re.finditer(rb"[A-Za-z0-9_./\-]+\.rs", mem):
        ptr = struct.pack("<II", m.start() + base, len(m.group(0)))
        n = mem.count(ptr)
        if n:
            files[m.group(0).decode()] += n
    return files


FRAMEWORK = re.compile(
    r"tachys|reactive_graph|leptos|any_spawner|send_wrapper|wasm_bindgen_futures|"
    r"js_sys::futures|or_poisoned|slotmap|indexmap|futures_|guardian|throw_error|"
    r"rustc_hash|hydration_context|oco_ref|either_of|next_tuple"
)


LEGACY_ESCAPES = {"$LT$": "<", "$GT$": ">", "$RF$": "&", "$BP$": "*", "$C$": ",", "$SP$": "@",
                  "$u20$": " ", "$u27$": "'", "$u5b$": "[", "$u5d$": "]", "$u7b$": "{", "$u7d$": "}",
                  "$u7e$": "~", "$u3b$": ";", "$u2b$": "+", "$u22$": '"'}


def demangle(name):
    """Rust's legacy mangling (`_ZN...E`), as the cargo artifact has it."""
    m = re.match(r"^_ZN((?:\d+[^\d].*?)+)E$", name)
    if not m:
        return name
    s, parts = m.group(1), []
    while s:
        d = re.match(r"\d+", s)
        if not d:
            return name
        n = int(d.group(0))
        part, s = s[d.end():d.end() + n], s[d.end() + n:]
        if part.startswith("_$"):
            part = part[1:]
        part = re.sub(r"\$[A-Za-z0-9]+\$", lambda e: LEGACY_ESCAPES.get(e.group(0), e.group(0)), part)
        parts.append(part.replace("..", "::"))
    return "::".join(parts)


def clean(name):
    name = demangle(name)
    name = re.sub(r"\[[0-9a-f]+\]", "", name)
    name = re.sub(r"::h[0-9a-f]{16}$", "", name)
    return re.sub(r"\.\d+$", "", name)


def crate_bucket(name):
    m = re.match(r"^obslab::([a-z_]+)", name)
    if m:
        return "obslab::" + m.group(1)
    if FRAMEWORK.search(name) and "obslab::" not in name:
        return "leptos (tachys, reactive_graph ...)"
    for pat, label in [
        (r"regex_lite", "regex-lite"),
        (r"plotters", "plotters"),
        (r"^import |wasm_bindgen|js_sys|web_sys", "wasm-bindgen, js-sys, web-sys"),
        (r"dlmalloc", "dlmalloc"),
        (r"fmt|flt2dec|dec2flt", "core::fmt and float formatting"),
        (r"btree|hashbrown|hash", "collections (btree, hashbrown)"),
        (r"sort", "sorting"),
        (r"compiler_builtins|libm", "math (compiler-builtins, libm)"),
        (r"obslab::", "generic std code instantiated for obslab"),
    ]:
        if re.search(pat, name):
            return label
    return "other std (iterators, drop glue, closures)"


def module_key(name, depth):
    s = name.lstrip("<")
    if s.startswith("impl "):
        s = s[5:]
    return "::".join(s.split("::")[:depth])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("wasm")
    ap.add_argument("--by", choices=["crate", "module", "family"], default="crate")
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--grep", help="only functions whose name matches this regex")
    ap.add_argument("--gz", action="store_true", help="also the marginal gzip cost of each group")
    a = ap.parse_args()

    b = open(a.wasm, "rb").read()
    names, imports, bodies, segs = {}, 0, [], []
    for sid, off, size in sections(b):
        if sid == 0:
            ln, j = leb(b, off)
            if b[j:j + ln] == b"name":
                names = function_names(b, off, size)
        elif sid == 2:
            imports = imported_functions(b, off)
        elif sid == 10:
            count, i = leb(b, off)
            for _ in range(count):
                ln, j = leb(b, i)
                bodies.append(b[j:j + ln])
                i = j + ln
        elif sid == 11:
            segs = data_segments(b, off)
    if not names:
        sys.exit("no name section: use the cargo artifact or `wasm-opt -g`")

    groups, counts = collections.Counter(), collections.Counter()
    keys = []
    for k, body in enumerate(bodies):
        name = clean(names.get(imports + k, f"func{imports + k}"))
        key = {"crate": crate_bucket, "family": lambda n: n, "module": lambda n: module_key(n, a.depth)}[a.by](name)
        keys.append(key)
        if a.grep and not re.search(a.grep, name):
            continue
        groups[key] += len(body)
        counts[key] += 1

    def gz_without(key):
        return len(gzip.compress(b"".join(body for k, body in zip(keys, bodies) if k != key), 9))

    all_gz = gz_without(None) if a.gz else 0
    code = sum(map(len, bodies))
    data = sum(len(d) for _, d in segs)
    print(f"file {len(b)} bytes: code {code} in {len(bodies)} functions, data {data} in {len(segs)} segments")
    if a.gz:
        print(f"gzip -9 of the code bodies: {all_gz}, of the data: {len(gzip.compress(b''.join(d for _, d in segs), 9))}")
    print(f"{'bytes':>9} {'share':>6} {'fns':>5} {'gz':>7}  group")
    for key, size in groups.most_common(a.top):
        gz = f"{all_gz - gz_without(key):7d}" if a.gz else f"{'':7}"
        print(f"{size:9d} {100 * size / code:5.1f}% {counts[key]:5d} {gz}  {key[:140]}")
    locs = panic_locations(segs)
    if locs:
        total = sum(locs.values())
        print(f"\npanic locations: {total} ({16 * total} bytes of data); most from:")
        for f, n in locs.most_common(8):
            print(f"{n:9d}  {f}")


if __name__ == "__main__":
    main()
