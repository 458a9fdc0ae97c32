#!/usr/bin/python3
"""SQLite from several threads of one process, the two ways real programs do it: one
connection per thread on a shared database file (SQLite's file locks and busy handler order
the writers), and one connection shared by every thread (check_same_thread=False) under the
program's own lock, with SQLite's serialized mode behind it.  Then the same file from several
processes (fork), one after the other and at once.  No write may be lost."""
import os
import shutil
import sqlite3
import tempfile
import threading

THREADS = 4
ROWS = 100

tmp = tempfile.mkdtemp(prefix="lw-sqlite-")
db = os.path.join(tmp, "t.db")
try:
    con = sqlite3.connect(db, timeout=60)
    con.execute("pragma journal_mode=wal")
    con.execute("create table t (who text, n integer)")
    con.commit()
    con.close()

    def own_connection(k):
        c = sqlite3.connect(db, timeout=60)
        for i in range(ROWS):
            with c:
                c.execute("insert into t values (?, ?)", ("thread%d" % k, i))
        c.execute("select count(*) from t").fetchone()
        c.close()

    ts = [threading.Thread(target=own_connection, args=(k,)) for k in range(THREADS)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()

    shared = sqlite3.connect(db, timeout=60, check_same_thread=False)
    lock = threading.Lock()

    def shared_connection(k):
        for i in range(ROWS):
            with lock:
                with shared:
                    shared.execute("insert into t values (?, ?)", ("shared%d" % k, i))
                shared.execute("select max(n) from t").fetchone()

    ts = [threading.Thread(target=shared_connection, args=(k,)) for k in range(THREADS)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    shared.close()

    def child(k):
        c = sqlite3.connect(db, timeout=60)
        for i in range(ROWS):
            with c:
                c.execute("insert into t values (?, ?)", ("proc%d" % k, i))
        c.close()

    def fork_children(ks, at_once):
        pids = []
        for k in ks:
            pid = os.fork()
            if pid == 0:
                code = 0
                try:
                    child(k)
                except Exception:
                    code = 1
                os._exit(code)
            if not at_once:
                os.waitpid(pid, 0)
            else:
                pids.append(pid)
        for pid in pids:
            os.waitpid(pid, 0)

    fork_children([0, 1], at_once=False)
    fork_children([2, 3, 4], at_once=True)

    c = sqlite3.connect(db)
    for kind in ("thread", "shared", "proc"):
        n, s = c.execute("select count(*), sum(n) from t where who like ?", (kind + "%",)).fetchone()
        print("%s: rows %d sum %d" % (kind, n, s))
    print("integrity:", c.execute("pragma integrity_check").fetchone()[0])
    c.close()
finally:
    shutil.rmtree(tmp)
