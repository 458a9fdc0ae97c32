#!/usr/bin/python3
"""CPython's threading module: Lock, RLock, Condition, Semaphore, Event, Barrier, Queue and
ThreadPoolExecutor, used correctly.  The output depends only on the arithmetic, never on the
schedule, so a native run and a run under lockwatch print the same bytes."""
import queue
import threading
from concurrent.futures import ThreadPoolExecutor

THREADS = 4
ROUNDS = 2000


def lock_counter():
    lock = threading.Lock()
    box = [0]

    def work():
        for _ in range(ROUNDS):
            with lock:
                box[0] += 1

    ts = [threading.Thread(target=work) for _ in range(THREADS)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("lock: counter", box[0])


def rlock_nested():
    rlock = threading.RLock()
    total = [0]

    def add(n):
        with rlock:
            if n:
                total[0] += n
                add(n - 1)

    def work():
        for _ in range(200):
            add(5)

    ts = [threading.Thread(target=work) for _ in range(THREADS)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("rlock: total", total[0])


def condition_buffer():
    cond = threading.Condition()
    buf = []
    got = []
    n = 500

    def producer():
        for i in range(n):
            with cond:
                while len(buf) >= 8:
                    cond.wait()
                buf.append(i)
                cond.notify_all()

    def consumer():
        while True:
            with cond:
                while not buf:
                    cond.wait()
                v = buf.pop(0)
                cond.notify_all()
            if v < 0:
                return
            got.append(v)

    cs = [threading.Thread(target=consumer) for _ in range(2)]
    p = threading.Thread(target=producer)
    for t in cs:
        t.start()
    p.start()
    p.join()
    with cond:
        buf.extend([-1, -1])
        cond.notify_all()
    for t in cs:
        t.join()
    print("condition: items", len(got), "sum", sum(got))


def semaphore_event_barrier():
    sem = threading.BoundedSemaphore(2)
    inside = [0]
    peak = [0]
    guard = threading.Lock()
    go = threading.Event()
    barrier = threading.Barrier(THREADS)

    def work():
        go.wait()
        for _ in range(100):
            with sem:
                with guard:
                    inside[0] += 1
                    peak[0] = max(peak[0], inside[0])
                with guard:
                    inside[0] -= 1
        barrier.wait()

    ts = [threading.Thread(target=work) for _ in range(THREADS)]
    for t in ts:
        t.start()
    go.set()
    for t in ts:
        t.join()
    print("semaphore: at most two inside", peak[0] <= 2, "left", inside[0])


def queue_pipeline():
    q = queue.Queue(maxsize=16)
    out = queue.Queue()

    def worker():
        while True:
            v = q.get()
            if v is None:
                q.task_done()
                return
            out.put(v * v)
            q.task_done()

    ws = [threading.Thread(target=worker) for _ in range(3)]
    for w in ws:
        w.start()
    for i in range(1000):
        q.put(i)
    q.join()
    for _ in ws:
        q.put(None)
    for w in ws:
        w.join()
    vals = []
    while not out.empty():
        vals.append(out.get())
    print("queue: results", len(vals), "sum", sum(vals))


def pool():
    with ThreadPoolExecutor(max_workers=4) as ex:
        res = list(ex.map(lambda x: sum(range(x)), range(300)))
        futs = [ex.submit(pow, 3, i) for i in range(50)]
        powers = [f.result() for f in futs]
    print("pool: map", sum(res), "submit", sum(powers) % 1000003)


lock_counter()
rlock_nested()
condition_buffer()
semaphore_event_barrier()
queue_pipeline()
pool()
