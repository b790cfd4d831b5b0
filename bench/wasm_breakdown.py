"""Where a wasm module's code bytes go, by crate: reads the function bodies (code
section) and the function names (the "name" custom section, present in the output of
wasm-bindgen before wasm-opt strips it — Trunk leaves that file in
target/wasm-bindgen/release/). Sizes are before wasm-opt; the shares carry over.

Usage: python3 bench/wasm_breakdown.py FILE.wasm  → one JSON object on stdout.
"""

import collections
import json
import re
import sys


def main(path):
    b = open(path, "rb").read()

    def leb(i):
        r = s = 0
        while True:
            x = b[i]
            i += 1
            r |= (x & 0x7F) << s
            s += 7
            if x < 0x80:
                return r, i

    i, secs = 8, []
    while i < len(b):
        size, j = leb(i + 1)
        secs.append((b[i], j, size))
        i = j + size
    imported_funcs = 0
    for sid, j, _ in secs:
        if sid != 2:
            continue
        n, k = leb(j)
        for _ in range(n):
            for _ in range(2):  # module, field
                ln, k = leb(k)
                k += ln
            kind = b[k]
            k += 1
            if kind == 0:
                _, k = leb(k)
                imported_funcs += 1
            elif kind == 1:
                k += 1
                flags = b[k]
                k += 1
                _, k = leb(k)
                if flags & 1:
                    _, k = leb(k)
            elif kind == 2:
                flags = b[k]
                k += 1
                _, k = leb(k)
                if flags & 1:
                    _, k = leb(k)
            elif kind == 3:
                k += 2
    bodies = []
    for sid, j, _ in secs:
        if sid == 10:
            n, k = leb(j)
            for _ in range(n):
                sz, k2 = leb(k)
                bodies.append(sz)
                k = k2 + sz
    names = {}
    for sid, j, size in secs:
        if sid != 0:
            continue
        ln, k = leb(j)
        if b[k:k + ln] != b"name":
            continue
        k += ln
        end = j + size
        while k < end:
            sub = b[k]
            ssz, k = leb(k + 1)
            nxt = k + ssz
            if sub == 1:
                n, k = leb(k)
                for _ in range(n):
                    idx, k = leb(k)
                    ln, k = leb(k)
                    names[idx] = b[k:k + ln].decode("utf8", "replace")
                    k += ln
            k = nxt
    by_crate = collections.Counter()
    for fi, sz in enumerate(bodies):
        name = names.get(fi + imported_funcs, "?")
        m = re.match(r"[<&\s]*(?:mut\s+)?([A-Za-z_][A-Za-z0-9_]*)", name)
        crate = m.group(1) if m else "?"
        if len(crate) == 1 and crate.isupper():
            crate = "<generic T as …>"
        by_crate[crate] += sz
    total = sum(bodies)
    print(json.dumps({
        "file": path,
        "functions": len(bodies),
        "named": len(names) > 0,
        "code_bytes": total,
        "by_crate": [{"crate": c, "bytes": v, "share": v / total if total else 0} for c, v in by_crate.most_common(12)],
    }))


if __name__ == "__main__":
    main(sys.argv[1])
