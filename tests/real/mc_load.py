#!/usr/bin/env python3
"""Bounded memcached load over loopback, standard library only.

usage: mc_load.py PORT [THREADS] [OPS]

THREADS (default 4) connections, each doing OPS (default 20000) requests in a fixed
pattern: set key, get key, incr a shared counter key, get a key another thread set,
delete now and then.  Prints one line per thread with a digest of every reply that
does not depend on timing (its own keys' values, the number of STORED/DELETED replies),
then a total line; exits 1 when a reply was wrong, 2 when memcached did not answer.
"""
import hashlib
import socket
import sys
import threading


def main():
    port = int(sys.argv[1])
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    ops = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
    results = [None] * threads
    errors = []

    def worker(n):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            f = s.makefile("rwb", buffering=0)
            h = hashlib.sha256()
            stored = 0
            for i in range(ops):
                key = b"t%d-k%d" % (n, i % 997)
                val = b"v%d-%d-" % (n, i) + b"x" * (i % 300)
                s.sendall(b"set %s 0 0 %d\r\n%s\r\n" % (key, len(val), val))
                line = f.readline()
                if line != b"STORED\r\n":
                    raise RuntimeError("set %r: %r" % (key, line))
                stored += 1
                s.sendall(b"get %s\r\n" % key)
                head = f.readline()
                body = f.read(len(val) + 2)
                end = f.readline()
                if not head.startswith(b"VALUE ") or body[:-2] != val or end != b"END\r\n":
                    raise RuntimeError("get %r: %r %r %r" % (key, head, body[:20], end))
                h.update(body)
                if i % 10 == 0:
                    s.sendall(b"incr shared 1\r\n")
                    r = f.readline()
                    if not r.strip().isdigit():
                        raise RuntimeError("incr: %r" % r)
                if i % 50 == 0:
                    other = b"t%d-k%d" % ((n + 1) % threads, i % 997)
                    s.sendall(b"get %s\r\n" % other)
                    while f.readline() not in (b"END\r\n", b""):
                        pass
                if i % 97 == 0:
                    s.sendall(b"delete %s\r\n" % key)
                    if f.readline() != b"DELETED\r\n":
                        raise RuntimeError("delete %r" % key)
            s.close()
            results[n] = "thread %d: %d stored, digest %s" % (n, stored, h.hexdigest()[:16])
        except Exception as e:  # noqa: BLE001 - any failure is reported
            errors.append("thread %d: %s" % (n, e))

    c = socket.create_connection(("127.0.0.1", port), timeout=30)
    c.sendall(b"set shared 0 0 1\r\n0\r\n")
    if c.makefile("rb").readline() != b"STORED\r\n":
        print("mc_load: memcached did not answer", file=sys.stderr)
        return 2
    ts = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        print("\n".join(errors), file=sys.stderr)
        return 1
    c.sendall(b"get shared\r\n")
    cf = c.makefile("rb")
    cf.readline()
    total = int(cf.readline())
    cf.readline()
    for r in results:
        print(r)
    expect = threads * ((ops + 9) // 10)
    print("shared counter %d (expected %d)" % (total, expect))
    return 0 if total == expect else 1


if __name__ == "__main__":
    sys.exit(main())
