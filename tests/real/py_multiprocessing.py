#!/usr/bin/python3
"""CPython's multiprocessing with the fork start method: a Pool (worker processes, a result
thread and a task thread in the parent), a process-shared Lock (a POSIX semaphore in shared
memory, taken in one process and released there, by three processes), and a Queue fed by
four processes (a feeder thread each).  The output does not depend on the schedule."""
import multiprocessing as mp


def square(x):
    return x * x


def locked_add(lock, val, n):
    for _ in range(n):
        with lock:
            val.value += 1


if __name__ == "__main__":
    mp.set_start_method("fork")
    with mp.Pool(3) as p:
        print("pool:", sum(p.map(square, range(200))))
    lock = mp.Lock()
    val = mp.Value("i", 0, lock=False)
    ps = [mp.Process(target=locked_add, args=(lock, val, 300)) for _ in range(3)]
    for q in ps:
        q.start()
    for q in ps:
        q.join()
    print("shared lock:", val.value)
    q = mp.Queue()
    ps = [mp.Process(target=q.put, args=(i,)) for i in range(4)]
    for x in ps:
        x.start()
    print("queue:", sorted(q.get() for _ in range(4)))
    for x in ps:
        x.join()
