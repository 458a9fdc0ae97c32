"""Test program: two processes write one LMDB database (python3-lmdb).  The parent holds
LMDB's writer lock (a process-shared robust mutex in the lock file) for argv[2] ms while a
second process, started with subprocess, waits for it to write its own key.  Prints
"lmdb: ok" and exits 0 when both keys are in the database and the child exited 0.
Usage: lmdb_two_procs.py DIR [MS]   (the child: lmdb_two_procs.py DIR --child)."""
import subprocess
import sys
import time

import lmdb


def main():
    path = sys.argv[1]
    if len(sys.argv) > 2 and sys.argv[2] == "--child":
        env = lmdb.open(path, map_size=1 << 20)
        with env.begin(write=True) as txn:    # waits for the parent's writer lock
            txn.put(b"child", b"2")
        env.close()
        return 0
    hold_ms = int(sys.argv[2]) if len(sys.argv) > 2 else 1500
    env = lmdb.open(path, map_size=1 << 20)
    txn = env.begin(write=True)               # takes the writer lock
    txn.put(b"parent", b"1")
    child = subprocess.Popen([sys.executable, sys.argv[0], path, "--child"])
    time.sleep(hold_ms / 1000.0)              # the child waits this long for the lock
    txn.commit()
    status = child.wait()
    with env.begin() as txn:
        got = (txn.get(b"parent"), txn.get(b"child"))
    env.close()
    print("lmdb: child exited %d, keys %r" % (status, got))
    if status == 0 and got == (b"1", b"2"):
        print("lmdb: ok")
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
