"""A queue.Queue hand-off between two threads, run under CPython (bench/run.sh).

usage: python3 py_queue.py [iterations]

A producer puts `iterations` numbers (default 200000) into a queue.Queue of one slot and a
consumer gets them: every step blocks one thread in a Condition wait, whose waiter lock
(a sem_t in CPython) the other thread releases.  Prints one checksum line.  Exit status 0,
or 2 on a bad argument.
"""
import queue
import sys
import threading

USAGE = "py_queue.py [iterations]"


def main():
    iterations = 200000
    if len(sys.argv) > 1:
        arg = sys.argv[1]
        if not arg.isdigit() or int(arg) < 1:
            print("usage: " + USAGE, file=sys.stderr)
            return 2
        iterations = int(arg)
    q = queue.Queue(maxsize=1)
    total = [0]

    def consume():
        s = 0
        for _ in range(iterations):
            s = (s * 31 + q.get()) & 0xFFFFFFFFFFFFFFFF
        total[0] = s

    c = threading.Thread(target=consume)
    c.start()
    for n in range(iterations):
        q.put(n)
    c.join()
    print("py_queue iterations=%d checksum=%016x" % (iterations, total[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
