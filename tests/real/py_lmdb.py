#!/usr/bin/python3
"""LMDB (python3-lmdb) from two processes at once, with two threads each: every process opens
the environment itself (LMDB's reader table and writer lock are process-shared robust mutexes
in the lock file), writes its own keys in many small transactions and reads the other's.
Then the parent checks that no write was lost."""
import os
import shutil
import tempfile
import threading

import lmdb

PROCS = 2
THREADS = 2
TXNS = 100
PER_TXN = 5

tmp = tempfile.mkdtemp(prefix="lw-lmdb-")
try:
    def child(p):
        env = lmdb.open(tmp, map_size=64 << 20, max_dbs=1, lock=True)

        def writer(t):
            for i in range(TXNS):
                with env.begin(write=True) as txn:
                    for j in range(PER_TXN):
                        key = b"p%d-t%d-%04d-%d" % (p, t, i, j)
                        txn.put(key, b"%d" % (i * PER_TXN + j))
                with env.begin() as txn:
                    txn.get(b"p%d-t%d-%04d-0" % (1 - p, t, i))

        ts = [threading.Thread(target=writer, args=(t,)) for t in range(THREADS)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        env.close()

    pids = []
    for p in range(PROCS):
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                child(p)
            except Exception as e:
                os.write(2, ("child %d: %r\n" % (p, e)).encode())
                code = 1
            os._exit(code)
        pids.append(pid)
    bad = 0
    for pid in pids:
        _, st = os.waitpid(pid, 0)
        bad += st != 0
    env = lmdb.open(tmp, map_size=64 << 20)
    with env.begin() as txn:
        n = 0
        total = 0
        for k, v in txn.cursor():
            n += 1
            total += int(v)
    env.close()
    want = PROCS * THREADS * TXNS * PER_TXN
    print("lmdb: children failed", bad)
    print("lmdb: keys", n, "of", want, "sum", total)
finally:
    shutil.rmtree(tmp)
