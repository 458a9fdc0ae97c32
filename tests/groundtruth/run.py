#!/usr/bin/python3
"""Runs lockwatch on generated programs (gen.py) and compares its findings with their truth.

    run.py [--seed S] [--n N] [--mode watch|hook|both] [--jobs J] [--keep DIR] [-v]

For each seed S, S+1, ..., S+N-1: the program, built twice:
  watch mode: gcc -O1 -g, run under `lockwatch run --format json --watch V1,...` (at most
              four global longs of the program); only findings on watched variables count;
  hook mode:  `lockwatch cc -O1 -g` (clang's hooks; LOCKWATCH_CC=gcc in the environment:
              ThreadSanitizer's interface), run under `lockwatch run --format json`; every
              variable.
Each `data-race` and `atomicity-violation` finding is mapped to the program's locations
(by the addresses the program prints) and to its static accesses (by function and line);
one the truth says cannot exist is a FALSE finding.  Prints per mode the false findings
(with a command that reproduces each), race recall and check-then-act recall; exits 1 on any
false finding or any run that failed (timeout, crash, no report), 0 otherwise.

Run from the repository root (it uses build/bin/lockwatch).
"""
import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402

LW = os.path.abspath("build/bin/lockwatch")
RUN_TIMEOUT = 60         # seconds for one program under lockwatch (0.2 s natively)
CC_TIMEOUT = 120
KINDS = ("data-race", "atomicity-violation")


def watched_for(p, truth):
    """Up to four global longs to watch: racy ones first (recall), then race-free ones
    (precision), in a seeded order."""
    import random
    rnd = random.Random(p.seed * 7919 + 1)
    names = [l[0] for l in p.locs if l[0] in gen.WATCHABLE]
    racy = [n for n in names if n in truth["race_locs"] or n in truth["atom_locs"]]
    calm = [n for n in names if n not in racy]
    rnd.shuffle(racy)
    rnd.shuffle(calm)
    return (racy[:2] + calm + racy[2:])[:4]


def locate(p, locs, addr):
    for name, (a, size) in locs.items():
        if a <= addr < a + size:
            return name
    return None


def frame_thread(p, frame):
    f = (frame or {}).get("function") or ""
    if f == "main":
        return "main"
    if f.endswith("_fn") and f[:-3] in p.threads:
        return f[:-3]
    return None


def candidates(p, acc_json, loc):
    """The static accesses a finding's access can be: same thread function, line and type."""
    st = acc_json.get("stack") or []
    if not st:
        return []
    t = frame_thread(p, st[0])
    line = st[0].get("line")
    write = acc_json.get("type") == "write"
    return [a for a in p.accesses
            if a.thread == t and a.line == line and a.write == write and a.loc == loc]


def judge(p, truth, report, locs, watched):
    """(false findings, found race locations, found atomicity locations, notes)."""
    false, found_race, found_atom = [], set(), set()
    racy_pairs = {(a.id, b.id) for a, b in truth["races"]}
    racy_pairs |= {(b, a) for a, b in racy_pairs}
    for f in report.get("findings", []):
        kind = f.get("kind")
        if kind not in KINDS:
            continue
        var = f.get("variable") or {}
        accs = f.get("accesses") or []
        # The accesses' own addresses (the variable's may be a whole granule).
        addrs = [int(x["address"], 16) for x in accs if x.get("address")]
        if not addrs and var.get("address"):
            addrs.append(int(var["address"], 16))
        loc_set = {locate(p, locs, a) for a in addrs}
        what = "%s: %s (%s)" % (kind, f.get("message", "?"), "; ".join(
            "line %s %s holding [%s]" % (((x.get("stack") or [{}])[0]).get("line"), x.get("type"),
                                          ", ".join(x.get("locks_held") or []))
            for x in accs))
        if None in loc_set or len(loc_set) != 1:
            if watched is not None and not (loc_set - {None}) & set(watched):
                continue      # not a watched variable (watch mode judges only those)
            false.append(what + " [on no single location of the program: %s]" %
                         ", ".join(sorted(str(x) for x in loc_set)))
            continue
        loc = loc_set.pop()
        if watched is not None and loc not in watched:
            continue
        if kind == "data-race":
            if loc not in truth["race_locs"]:
                false.append(what + " [no racy pair on %s]" % loc)
                continue
            if len(accs) == 2:
                ca, cb = candidates(p, accs[0], loc), candidates(p, accs[1], loc)
                if ca and cb and not any((a.id, b.id) in racy_pairs for a in ca for b in cb):
                    false.append(what + " [lines %s/%s: this pair is ordered or protected]" % (
                        ca[0].line, cb[0].line))
                    continue
            found_race.add(loc)
        else:
            if loc not in truth["atom_possible"]:
                false.append(what + " [no check-then-act can be interleaved on %s]" % loc)
                continue
            roles = {x.get("role"): x for x in accs}
            if all(r in roles for r in ("check", "act", "interfering-write")):
                c1 = candidates(p, roles["check"], loc)
                c2 = candidates(p, roles["act"], loc)
                cw = candidates(p, roles["interfering-write"], loc)
                if c1 and c2 and cw and not any(gen.can_fall_between(p, a, b, w)
                                                for a in c1 for b in c2 for w in cw):
                    false.append(what + " [lines %s/%s/%s: the write cannot fall between]" % (
                        c1[0].line, c2[0].line, cw[0].line))
                    continue
            found_atom.add(loc)
    return false, found_race, found_atom


def run_one(seed, mode, keep, mutate=False):
    """Returns a dict with the seed's verdict in one mode."""
    p = gen.generate(seed)
    src = gen.emit(p)
    if mutate:
        p.strip = gen.mutant(p, gen.WATCHABLE if mode == "watch" else None)
        if p.strip is None:
            return None
        src = gen.emit(p)
    truth = gen.truth(p)
    work = tempfile.mkdtemp(prefix="lw-gt-%d-%s-" % (seed, mode))
    res = {"seed": seed, "mode": mode, "false": [], "error": None,
           "race_locs": set(truth["race_locs"]), "atom_locs": set(truth["atom_locs"]),
           "found_race": set(), "found_atom": set()}
    try:
        c = os.path.join(work, "gt%d.c" % seed)
        exe = os.path.join(work, "gt%d" % seed)
        with open(c, "w") as fh:
            fh.write(src)
        if mode == "watch":
            cc = ["gcc", "-O1", "-g", "-pthread", "-o", exe, c]
        else:
            cc = [LW, "cc", "-O1", "-g", "-pthread", "-o", exe, c]
        r = subprocess.run(cc, capture_output=True, text=True, timeout=CC_TIMEOUT)
        if r.returncode != 0:
            res["error"] = "build failed: %s" % r.stderr[-2000:]
            return res
        watched = None
        opts = []
        if mode == "watch":
            watched = watched_for(p, truth)
            if not watched:
                res["race_locs"] = res["atom_locs"] = set()
                return res
            opts = ["--watch", ",".join(watched)]
            res["race_locs"] &= set(watched)
            res["atom_locs"] &= set(watched)
        out = os.path.join(work, "report.json")
        cmd = [LW, "run", "--format", "json", "-o", out, "--trace-dir",
               os.path.join(work, "traces")] + opts + ["--", exe]
        res["repro"] = "/usr/bin/python3 tests/groundtruth/gen.py %d%s > gt%d.c && %s && %s" % (
            seed, " --mutate" if mutate else "", seed,
            " ".join(["gcc", "-O1", "-g", "-pthread", "-o", "gt%d" % seed, "gt%d.c" % seed]
                     if mode == "watch" else
                     (["LOCKWATCH_CC=" + os.environ["LOCKWATCH_CC"]]
                      if os.environ.get("LOCKWATCH_CC") else []) +
                     ["build/bin/lockwatch", "cc", "-O1", "-g", "-pthread", "-o", "gt%d" % seed,
                      "gt%d.c" % seed]),
            " ".join(["build/bin/lockwatch", "run"] + opts + ["--", "./gt%d" % seed]))
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT,
                               start_new_session=True)
        except subprocess.TimeoutExpired:
            res["error"] = "timed out after %d s" % RUN_TIMEOUT
            return res
        if r.returncode not in (0, 66):
            res["error"] = "lockwatch run exited %d: %s" % (r.returncode, r.stderr[-1500:])
            return res
        locs = {}
        for ln in r.stdout.splitlines():
            w = ln.split()
            if len(w) == 4 and w[0] == "LOC":
                locs[w[1]] = (int(w[2], 16), int(w[3]))
        if len(locs) != len(p.locs):
            res["error"] = "the program printed %d of its %d locations" % (len(locs), len(p.locs))
            return res
        try:
            with open(out) as fh:
                report = json.load(fh)
        except (OSError, ValueError) as e:
            res["error"] = "no JSON report: %s" % e
            return res
        false, fr, fa = judge(p, truth, report, locs, watched)
        res["false"], res["found_race"], res["found_atom"] = false, fr, fa
        res["watched"] = watched
        return res
    finally:
        if keep:
            dst = os.path.join(keep, "%d-%s" % (seed, mode))
            shutil.rmtree(dst, ignore_errors=True)
            shutil.copytree(work, dst)
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--mode", choices=("watch", "hook", "both"), default="both")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--keep", help="copy each program, binary and report under this directory")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--mutate", action="store_true",
                    help="the runner's own check: leave one block's locks out of each program "
                    "but not out of its truth; exits 0 only if false findings are then reported")
    a = ap.parse_args()
    if not os.access(LW, os.X_OK):
        print("groundtruth: %s not built (make all)" % LW, file=sys.stderr)
        return 2
    modes = ["watch", "hook"] if a.mode == "both" else [a.mode]
    jobs = [(s, m) for m in modes for s in range(a.seed, a.seed + a.n)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as ex:
        results = list(ex.map(lambda j: run_one(j[0], j[1], a.keep, a.mutate), jobs))
    results = [r for r in results if r is not None]
    bad = False
    for m in modes:
        rs = [r for r in results if r["mode"] == m]
        nf = sum(len(r["false"]) for r in rs)
        tr = sum(len(r["race_locs"]) for r in rs)
        fr = sum(len(r["found_race"] & r["race_locs"]) for r in rs)
        ta = sum(len(r["atom_locs"]) for r in rs)
        fa = sum(len(r["found_atom"] & r["atom_locs"]) for r in rs)
        errs = [r for r in rs if r["error"]]
        print("groundtruth %s mode, seeds %d..%d: %d false findings, %d failed runs; "
              "race recall %d/%d (%.0f%%), check-then-act recall %d/%d (%.0f%%)" % (
                  m, a.seed, a.seed + a.n - 1, nf, len(errs), fr, tr,
                  100.0 * fr / tr if tr else 100.0, fa, ta, 100.0 * fa / ta if ta else 100.0))
        for r in rs:
            for f in r["false"]:
                print("  FALSE seed %d (%s): %s\n    reproduce: %s" % (r["seed"], m, f, r["repro"]))
            if r["error"]:
                print("  FAILED seed %d (%s): %s" % (r["seed"], m, r["error"]))
            if a.verbose:
                print("  seed %d (%s): races on %s, found %s; check-then-act on %s, found %s%s" % (
                    r["seed"], m, sorted(r["race_locs"]), sorted(r["found_race"]),
                    sorted(r["atom_locs"]), sorted(r["found_atom"]),
                    ("; watched " + ",".join(r.get("watched") or [])) if m == "watch" else ""))
        # Race recall by kind of location (verbose): where the misses are.
        if a.verbose:
            kinds = {l[0]: l[2] for l in gen.LOCATIONS}
            by = {}
            for r in rs:
                for loc in r["race_locs"]:
                    k = by.setdefault(kinds[loc], [0, 0])
                    k[1] += 1
                    k[0] += loc in r["found_race"]
            print("  race recall by location kind: " + ", ".join(
                "%s %d/%d" % (k, v[0], v[1]) for k, v in sorted(by.items())))
        if a.mutate:
            # Every mutant whose stripped block ran concurrently should be caught; ask for
            # at least one per mode, and no failed run.
            print("groundtruth %s mode, mutants: %d of %d programs gave false findings" % (
                m, sum(1 for r in rs if r["false"]), len(rs)))
            if errs or nf == 0:
                bad = True
        elif nf or errs:
            bad = True
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
