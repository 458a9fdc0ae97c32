"""The compressors' input (tests/real/run.sh, bench/real.sh): SIZE_MB MiB, deterministic,
half compressible text and half random bytes.  Usage: make_input.py FILE SIZE_MB"""
import random
import sys

r = random.Random(7)
words = [("w%d" % i).encode() * (1 + i % 3) for i in range(5000)]
with open(sys.argv[1], "wb") as f:
    for _ in range(int(sys.argv[2])):
        f.write(b" ".join(r.choice(words) for _ in range(70000))[:1 << 19].ljust(1 << 19, b"."))
        f.write(r.randbytes(1 << 19))
