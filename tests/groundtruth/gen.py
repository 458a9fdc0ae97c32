#!/usr/bin/python3
"""Random small pthread programs with a known truth: which pairs of accesses race, which
check-then-act pairs can be interleaved.  The truth is computed from the program's structure
(never by running it); see README.md for the rules.

    gen.py SEED            writes the C program of SEED on the standard output
    gen.py SEED --truth    prints its truth instead
    gen.py SEED --mutate   the program with one block's locks left out (its truth unchanged)

Python's own `random.Random(seed)` (Mersenne Twister, stable across Python 3 versions for
integers drawn with randrange/choice/shuffle) makes a seed name the same program everywhere.
"""
import random
import sys

REP = 200           # rounds of every looped block: enough for threads to overlap

# The shared locations a program may use: (name in the C code of a worker, name in main,
# kind).  s.c and s.d are two ints in one 8-byte word: a race on one is not a race on the
# other.
LOCATIONS = [
    ("g0", "g0", "global"), ("g1", "g1", "global"), ("g2", "g2", "global"),
    ("g3", "g3", "global"),
    ("s.a", "s.a", "member"), ("s.b", "s.b", "member"),
    ("s.c", "s.c", "int"), ("s.d", "s.d", "int"),
    ("arr[1]", "arr[1]", "element"), ("arr[2]", "arr[2]", "element"),
    ("H->f[0]", "heap->f[0]", "heap"), ("H->f[1]", "heap->f[1]", "heap"),
    ("L->a", "loc.a", "stack"), ("L->b", "loc.b", "stack"),
]
WATCHABLE = {"g0", "g1", "g2", "g3"}   # plain global symbols, one debug register each


class Access:
    """One static memory access.  node: the HB-graph node of the op it is in; locks: the
    lock names held (an rwlock held for reading is 'rw:r', for writing 'rw'); block: the
    looped block it is in (None for one-shot accesses); cs: its critical section inside one
    round of the block (accesses with the same cs share every lock of `locks`; a
    check-then-act's check and act have different cs but share its outer locks)."""

    def __init__(self, thread, loc, write, locks, node, block, cs, role=None):
        self.thread, self.loc, self.write, self.locks = thread, loc, write, frozenset(locks)
        self.node, self.block, self.cs, self.role = node, block, cs, role
        self.line = None
        self.id = None
        self.looped = block is not None
        self.outer = frozenset()

    def __repr__(self):
        return "%s:%s %s@%s line %s locks %s" % (
            self.thread, "W" if self.write else "R", self.loc, self.node, self.line,
            ",".join(sorted(self.locks)) or "-")


class Program:
    pass


def protected(a, b):
    """Whether the two accesses hold a common lock that excludes them (an rwlock only when
    one of them holds it for writing)."""
    for l in a.locks & b.locks:
        if l != "rw:r":
            return True
    if ("rw" in a.locks and "rw:r" in b.locks) or ("rw:r" in a.locks and "rw" in b.locks):
        return True
    return False


def generate(seed):
    rnd = random.Random(seed)
    p = Program()
    p.seed = seed
    nworkers = rnd.randint(2, 4)
    p.threads = ["main"] + ["t%d" % i for i in range(1, nworkers + 1)]
    # Who creates whom: main mostly; sometimes a worker creates the next one.
    parent = {}
    for i, t in enumerate(p.threads[1:], 1):
        if i >= 2 and rnd.random() < 0.3 and parent.get(p.threads[i - 1]) == "main":
            parent[t] = p.threads[i - 1]
        else:
            parent[t] = "main"
    p.parent = parent
    p.nmutex = rnd.randint(1, 4)
    p.mutexes = ["m%d" % i for i in range(p.nmutex)]
    p.use_rw = rnd.random() < 0.6
    p.use_semlock = rnd.random() < 0.5
    # The one global lock order: every nested acquisition follows it, so no deadlock.
    order = list(p.mutexes)
    rnd.shuffle(order)
    if p.use_rw:
        order.insert(rnd.randint(0, len(order)), "rw")
    if p.use_semlock:
        order.insert(rnd.randint(0, len(order)), "sl")
    p.order = order
    nloc = rnd.randint(3, 6)
    p.locs = rnd.sample(LOCATIONS, nloc)
    p.locs.sort(key=lambda l: LOCATIONS.index(l))
    locnames = [l[0] for l in p.locs]
    # Each location has a home lock, which most of its accesses take.
    home = {l: rnd.choice(p.order + [None]) for l in locnames}

    ops = {t: [] for t in p.threads}   # per thread: list of op dicts, program order
    blockno = [0]

    def pick_locks(loc):
        r = rnd.random()
        h = home[loc]
        if r < 0.55 and h is not None:
            ls = {h}
        elif r < 0.7:
            ls = set()                                   # deliberately no lock
        else:
            ls = {rnd.choice(p.order)}                   # perhaps the wrong lock
        if rnd.random() < 0.3:                           # nest one more, in order
            ls.add(rnd.choice(p.order))
        return sorted(ls, key=p.order.index)

    def make_block(t):
        blockno[0] += 1
        b = blockno[0]
        if rnd.random() < 0.25 and p.mutexes:
            # check-then-act: read under m, release, reacquire, write; perhaps under an
            # outer lock (earlier in the order) held across both.
            loc = rnd.choice(locnames)
            m = home[loc] if home[loc] in p.mutexes and rnd.random() < 0.7 \
                else rnd.choice(p.mutexes)
            before = [l for l in p.order[:p.order.index(m)] if l != "sl"]
            outer = [rnd.choice(before)] if before and rnd.random() < 0.4 else []
            if outer == ["rw"] and rnd.random() < 0.5:
                outer = ["rw:r"]
            # Sometimes once, not in rounds: then its check and act pair only with each
            # other, and a write under the outer lock cannot fall between them.
            return {"op": "cta", "block": b, "loc": loc, "m": m, "outer": outer,
                    "once": rnd.random() < 0.3}
        locks = pick_locks(rnd.choice(locnames))
        rwmode = None
        if "rw" in locks:
            rwmode = "r" if rnd.random() < 0.5 else "w"
        stmts = []
        for _ in range(rnd.randint(1, 2)):
            loc = rnd.choice(locnames)
            r = rnd.random()
            kind = "read" if r < 0.4 else ("write" if r < 0.7 else "rmw")
            stmts.append((kind, loc))
        return {"op": "block", "block": b, "locks": locks, "rwmode": rwmode, "stmts": stmts}

    for t in p.threads:
        n = rnd.randint(1, 3) if t != "main" else rnd.randint(0, 1)
        for _ in range(n):
            ops[t].append(make_block(t))
    # Create and join.  A creator creates its children at a random point before its blocks
    # end and joins them later; main may join one child mid-way and touch data after.
    for t in p.threads[1:]:
        c = parent[t]
        seq = ops[c]
        # stagger: a pause after the create, so that the child often runs alone for a
        # while (a timing change only; it orders nothing).
        cr = {"op": "create", "child": t, "stagger": rnd.random() < 0.3}
        if c == "main":
            seq.insert(0, cr)
        else:
            seq.insert(rnd.randint(0, len(seq)), cr)
    for c in p.threads:
        kids = [t for t in p.threads[1:] if parent[t] == c]
        rnd.shuffle(kids)
        for k in kids:
            seq = ops[c]
            ci = next(i for i, o in enumerate(seq) if o.get("op") == "create" and o["child"] == k)
            pos = rnd.randint(ci + 1, len(seq))
            if c == "main":
                pos = len(seq)
            seq.insert(pos, {"op": "join", "child": k})
    if rnd.random() < 0.5:
        # main: join one child mid-way, then touch data after the join, then the rest.
        joins = [i for i, o in enumerate(ops["main"]) if o["op"] == "join"]
        if len(joins) >= 2:
            ops["main"].insert(joins[0] + 1, make_block("main"))

    # Hand-offs: a semaphore signal (post after write, wait before read) or a condition
    # variable with a predicate.  Each is used once, by one poster and one waiter; added
    # only when it keeps the program's order acyclic (no deadlock).
    p.signals = []
    p.conds = []
    for kind in ["sem"] * rnd.randint(0, 2) + ["cond"] * rnd.randint(0, 1):
        for _attempt in range(10):
            a, b = rnd.sample(p.threads, 2)
            ia = rnd.randint(0, len(ops[a]))
            ib = rnd.randint(0, len(ops[b]))
            loc = rnd.choice(locnames)
            name = ("sig%d" % len(p.signals)) if kind == "sem" else ("cv%d" % len(p.conds))
            ta = list(ops[a])
            tb = list(ops[b])
            ta.insert(ia, {"op": "post", "what": kind, "name": name, "loc": loc})
            tb.insert(ib, {"op": "wait", "what": kind, "name": name, "loc": loc})
            trial = dict(ops)
            trial[a], trial[b] = ta, tb
            if in_order(p, trial):
                ops = trial
                (p.signals if kind == "sem" else p.conds).append(name)
                break
    p.ops = ops
    build_graph(p)
    return p


def graph_of(p, ops):
    """Nodes (thread, index) plus per-thread start/end; edges: program order, create, join,
    post -> wait."""
    succ = {}

    def edge(a, b):
        succ.setdefault(a, set()).add(b)
        succ.setdefault(b, set())

    posts, waits = {}, {}
    for t in p.threads:
        prev = (t, "start")
        succ.setdefault(prev, set())
        for i, o in enumerate(ops[t]):
            n = (t, i)
            edge(prev, n)
            prev = n
            if o["op"] == "post":
                posts[o["name"]] = n
            elif o["op"] == "wait":
                waits[o["name"]] = n
        edge(prev, (t, "end"))
    for t in p.threads:
        for i, o in enumerate(ops[t]):
            if o["op"] == "create":
                edge((t, i), (o["child"], "start"))
            elif o["op"] == "join":
                edge((o["child"], "end"), (t, i))
    for name, n in posts.items():
        if name in waits:
            edge(n, waits[name])
    return succ


def in_order(p, ops):
    succ = graph_of(p, ops)
    state = {}

    def dfs(n):
        state[n] = 1
        for m in succ[n]:
            if state.get(m) == 1:
                return False
            if m not in state and not dfs(m):
                return False
        state[n] = 2
        return True

    return all(dfs(n) for n in list(succ) if n not in state)


def build_graph(p):
    succ = graph_of(p, p.ops)
    reach = {}

    def r(n):
        if n in reach:
            return reach[n]
        s = set()
        for m in succ[n]:
            s.add(m)
            s |= r(m)
        reach[n] = s
        return s

    for n in succ:
        r(n)
    p.reach = reach


def hb(p, a, b):
    return b.node in p.reach[a.node]


def emit(p):
    """The C program, and p.accesses with their lines."""
    out = []
    acc = []

    def line(s=""):
        out.append(s)
        return len(out)

    line("/* lockwatch ground-truth program, seed %d: tests/groundtruth/gen.py %d */" % (p.seed, p.seed))
    line("#include <pthread.h>")
    line("#include <semaphore.h>")
    line("#include <stdio.h>")
    line("#include <stdlib.h>")
    line("#include <sched.h>")
    line("#include <unistd.h>")
    line("#define B() __asm__ volatile(\"\" ::: \"memory\")")
    line("/* Let the other threads in now and then: more interleavings, no ordering. */")
    line("#define YIELD(r) do { if ((r) % 16 == 15) sched_yield(); } while (0)")
    line("struct S { long a; long b; int c; int d; };")
    line("struct H { long f[2]; };")
    line("long g0, g1, g2, g3;")
    line("struct S s;")
    line("long arr[4];")
    line("struct H *heap;")
    for m in p.mutexes:
        line("pthread_mutex_t %s = PTHREAD_MUTEX_INITIALIZER;" % m)
    line("pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;")
    line("sem_t sl;")
    for s in p.signals:
        line("sem_t %s;" % s)
    for c in p.conds:
        line("pthread_mutex_t %s_m = PTHREAD_MUTEX_INITIALIZER;" % c)
        line("pthread_cond_t %s = PTHREAD_COND_INITIALIZER;" % c)
        line("int %s_flag;" % c)
    for t in p.threads[1:]:
        line("static void *%s_fn(void *arg);" % t)

    def expr(t, loc):
        if t != "main":
            return loc
        return next(l[1] for l in LOCATIONS if l[0] == loc)

    def lock(l, mode=None):
        if l == "rw":
            return "pthread_rwlock_%s(&rw);" % ("rdlock" if mode == "r" else "wrlock")
        if l == "rw:r":
            return "pthread_rwlock_rdlock(&rw);"
        if l == "sl":
            return "sem_wait(&sl);"
        return "pthread_mutex_lock(&%s);" % l

    def unlock(l):
        if l in ("rw", "rw:r"):
            return "pthread_rwlock_unlock(&rw);"
        if l == "sl":
            return "sem_post(&sl);"
        return "pthread_mutex_unlock(&%s);" % l

    def held(locks, rwmode):
        return ["rw:r" if (l == "rw" and rwmode == "r") else l for l in locks]

    def body(t):
        for i, o in enumerate(p.ops[t]):
            node = (t, i)
            k = o["op"]
            if k == "block":
                hl = held(o["locks"], o["rwmode"])
                line("\tfor (int r = 0; r < %d; r++) {" % REP)
                # A mutant (run.py --mutate) leaves out this block's locks, its truth not.
                strip = getattr(p, "strip", None) == o["block"]
                for l in o["locks"]:
                    if not strip:
                        line("\t\t" + lock(l, o["rwmode"]))
                for kind, loc in o["stmts"]:
                    e = expr(t, loc)
                    if kind == "read":
                        a = Access(t, loc, False, hl, node, o["block"], 0)
                        a.line = line("\t\tv += %s; B();" % e)
                        acc.append(a)
                    elif kind == "write":
                        a = Access(t, loc, True, hl, node, o["block"], 0)
                        a.line = line("\t\t%s = %d; B();" % (e, o["block"] * 10 + 1))
                        acc.append(a)
                    else:
                        a1 = Access(t, loc, False, hl, node, o["block"], 0)
                        a2 = Access(t, loc, True, hl, node, o["block"], 0)
                        a1.line = a2.line = line("\t\t%s = %s + 1; B();" % (e, e))
                        acc.extend([a1, a2])
                for l in reversed(o["locks"]):
                    if not strip:
                        line("\t\t" + unlock(l))
                line("\t\tYIELD(r);")
                line("\t}")
            elif k == "cta":
                e = expr(t, o["loc"])
                line("\tfor (int r = 0; r < %d; r++) {" % (1 if o["once"] else REP))
                for l in o["outer"]:
                    line("\t\t" + lock(l))
                ch = Access(t, o["loc"], False, o["outer"] + [o["m"]], node, o["block"], 1, "check")
                ac = Access(t, o["loc"], True, o["outer"] + [o["m"]], node, o["block"], 2, "act")
                ch.outer = ac.outer = frozenset(o["outer"])
                ch.looped = ac.looped = not o["once"]
                line("\t\t" + lock(o["m"]))
                ch.line = line("\t\tc = %s; B();" % e)
                line("\t\t" + unlock(o["m"]))
                line("\t\tB();")
                line("\t\t" + lock(o["m"]))
                ac.line = line("\t\t%s = c + 1; B();" % e)
                line("\t\t" + unlock(o["m"]))
                for l in reversed(o["outer"]):
                    line("\t\t" + unlock(l))
                line("\t\tYIELD(r);")
                line("\t}")
                acc.extend([ch, ac])
            elif k == "create":
                line("\tpthread_create(&tid_%s, NULL, %s_fn, %s);" % (
                    o["child"], o["child"], "&loc" if t == "main" else "arg"))
                if o.get("stagger"):
                    line("\tusleep(2000);")
            elif k == "join":
                line("\tpthread_join(tid_%s, NULL);" % o["child"])
            elif k == "post":
                e = expr(t, o["loc"])
                a = Access(t, o["loc"], True, [], node, None, 0)
                a.line = line("\t%s = %d; B();" % (e, 7 + i))
                acc.append(a)
                if o["what"] == "sem":
                    line("\tsem_post(&%s);" % o["name"])
                else:
                    c = o["name"]
                    line("\tpthread_mutex_lock(&%s_m);" % c)
                    line("\t%s_flag = 1;" % c)
                    line("\tpthread_cond_signal(&%s);" % c)
                    line("\tpthread_mutex_unlock(&%s_m);" % c)
            elif k == "wait":
                if o["what"] == "sem":
                    line("\twhile (sem_wait(&%s) != 0)" % o["name"])
                    line("\t\t;")
                else:
                    c = o["name"]
                    line("\tpthread_mutex_lock(&%s_m);" % c)
                    line("\twhile (!%s_flag)" % c)
                    line("\t\tpthread_cond_wait(&%s, &%s_m);" % (c, c))
                    line("\tpthread_mutex_unlock(&%s_m);" % c)
                e = expr(t, o["loc"])
                a = Access(t, o["loc"], False, [], node, None, 0)
                a.line = line("\tv += %s; B();" % e)
                acc.append(a)

    def kids(t):
        return [k for k in p.threads[1:] if p.parent[k] == t]

    for t in p.threads[1:]:
        line("")
        line("static void *%s_fn(void *arg)" % t)
        line("{")
        line("\tstruct S *L = arg;")
        line("\tstruct H *H = heap;")
        line("\tlong v = 0, c = 0;")
        for k in kids(t):
            line("\tpthread_t tid_%s;" % k)
        line("\t(void)L; (void)H; (void)c;")
        body(t)
        line("\treturn (void *)v;")
        line("}")
    line("")
    line("int main(void)")
    line("{")
    line("\tstruct S loc = { 0, 0, 0, 0 };")
    line("\tlong v = 0, c = 0;")
    for k in kids("main"):
        line("\tpthread_t tid_%s;" % k)
    line("\t(void)c;")
    line("\theap = calloc(1, sizeof *heap);")
    line("\tsem_init(&sl, 0, 1);")
    for s in p.signals:
        line("\tsem_init(&%s, 0, 0);" % s)
    for name, mainexpr, _k in p.locs:
        line("\tprintf(\"LOC %s %%p %%zu\\n\", (void *)&%s, sizeof %s);" % (name, mainexpr, mainexpr))
    line("\tfflush(stdout);")
    body("main")
    line("\tprintf(\"v %ld\\n\", v);")
    # The free writes the whole heap block (lockwatch records it so): main's last access
    # to each heap location, after every join.
    fl = line("\tfree(heap);")
    for name, _m, kind in p.locs:
        if kind == "heap":
            a = Access("main", name, True, [], ("main", "end"), None, 0, "free")
            a.line = fl
            acc.append(a)
    line("\treturn 0;")
    line("}")
    for i, a in enumerate(acc):
        a.id = i
    p.accesses = acc
    return "\n".join(out) + "\n"


def truth(p):
    """races: racy pairs (a, b); locations with one.  atom: check-then-act blocks whose
    check and act another thread's write under the same mutex can fall between (recall).
    atom_possible: locations where an atomicity finding can be true (a read, a later access
    by the same thread not in one critical section of a lock the writer holds, another
    thread's write that can fall between)."""
    acc = p.accesses
    races = []
    for i, a in enumerate(acc):
        for b in acc[i + 1:]:
            if a.thread == b.thread or a.loc != b.loc or not (a.write or b.write):
                continue
            if hb(p, a, b) or hb(p, b, a) or protected(a, b):
                continue
            races.append((a, b))
    atom = []
    for ch in acc:
        if ch.role != "check":
            continue
        ac = next(x for x in acc if x.role == "act" and x.node == ch.node and x.block == ch.block)
        for w in acc:
            if w.thread == ch.thread or w.loc != ch.loc or not w.write:
                continue
            m = [l for l in ch.locks if l not in ch.outer][0]
            if m not in w.locks:
                continue
            if hb(p, w, ch) or hb(p, ac, w):
                continue
            if excludes(ch.outer, w):
                continue
            atom.append((ch, ac, w))
            break
    possible = set()
    for a1 in acc:
        for a2 in acc:
            for w in acc:
                if a1.loc == a2.loc == w.loc and can_fall_between(p, a1, a2, w):
                    possible.add(a1.loc)
    return {"races": races, "race_locs": {a.loc for a, _ in races}, "atom": atom,
            "atom_locs": {c.loc for c, _, _ in atom}, "atom_possible": possible}


def can_fall_between(p, a1, a2, w):
    """Whether an atomicity finding "a1 (a read), then a2 (a later access of the same
    thread), w (another thread's write) between them" can be true in some execution: w is
    ordered neither before a1 nor after a2, and no lock held from a1 to a2 keeps it out."""
    if a1.write or a2.thread != a1.thread or w.thread == a1.thread or not w.write:
        return False
    if hb(p, w, a1) or hb(p, a2, w):
        return False
    if a2.node != a1.node:
        return a2.node in p.reach[a1.node]
    # The same op: a block.  Within one round a2 comes after a1 in the text (a read and
    # the write of one increment share a line; the read comes first), and they share the
    # critical section's locks, or for a check and its act the outer ones; the next round
    # of a looped block shares no lock (every round releases them).
    if a1.block is None:
        return False
    if a2.id > a1.id:
        if a2.cs == a1.cs:
            shared = set(a1.locks)
        else:
            shared = set(a1.outer)
        if not excludes(shared, w):
            return True
    return a1.looped


def excludes(shared, w):
    """Whether locks held across two accesses keep the write w out from between them."""
    class X:
        pass
    x = X()
    x.locks = frozenset(shared)
    return bool(shared) and protected(x, w)


def mutant(p, only=None):
    """The block whose locks, left out of the C text but not out of the truth, make the
    most new racy pairs (on locations in `only`, if given; None if none does): the truth is then wrong on purpose, and a
    runner that trusts it must see false findings.  p must have been emitted."""
    def count():
        return len([a for a, _ in truth(p)["races"] if only is None or a.loc in only])

    base = count()
    best, gain = None, 0
    for t in p.threads:
        for o in p.ops[t]:
            if o["op"] != "block" or not o["locks"]:
                continue
            mine = [a for a in p.accesses if a.block == o["block"]]
            saved = [a.locks for a in mine]
            for a in mine:
                a.locks = frozenset()
            n = count() - base
            for a, l in zip(mine, saved):
                a.locks = l
            if n > gain:
                best, gain = o["block"], n
    return best


def main():
    seed = int(sys.argv[1])
    p = generate(seed)
    src = emit(p)
    if "--mutate" in sys.argv[2:]:
        p.strip = mutant(p)
        src = emit(p)
    if "--truth" in sys.argv[2:]:
        t = truth(p)
        print("racy pairs:")
        for a, b in t["races"]:
            print("  %s  <->  %s" % (a, b))
        print("check-then-act violations:")
        for c, a, w in t["atom"]:
            print("  %s / %s  interfered by  %s" % (c, a, w))
        print("atomicity possible on:", ", ".join(sorted(t["atom_possible"])) or "-")
    else:
        sys.stdout.write(src)


if __name__ == "__main__":
    main()
