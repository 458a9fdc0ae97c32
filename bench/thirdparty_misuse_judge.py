#!/usr/bin/env python3
"""Judge of bench/thirdparty-misuse.sh: sorts lockwatch's, Helgrind's and DRD's reports on
each program into misuse kinds and compares them with the truth table.

Usage: thirdparty_misuse_judge.py TRUTH.tsv RESULTS_DIR CASE...
Reads RESULTS_DIR/CASE/{lw.json,helgrind.xml,drd.xml,*.rc}; prints the per-program table,
then per tool and per kind the recall and the false misuse; writes RESULTS_DIR/summary.tsv.
Exit status: 0, or 1 when the truth table is malformed or lacks a case.
"""
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

# The kinds, in the order they are printed.  A truth row names them; every tool's message
# is sorted into one of them (or into "race"/"order"/"other", which are not misuse).
KINDS = [
    "unlock-not-locked",  # unlock of a lock that is not locked (or not by anyone)
    "unlock-other-owner",  # unlock of a lock another thread holds
    "relock",  # a non-recursive lock locked again by its holder
    "destroy-locked",  # destroy of a locked lock
    "destroy-waited",  # destroy of a condvar, barrier or semaphore threads wait on
    "free-locked",  # free/munmap of memory holding a locked lock
    "reinit",  # init of an object that is initialised and not destroyed (not in use)
    "reinit-locked",  # init of a lock held, or waited for, by a thread
    "not-initialised",  # a call on an object never initialised (or whose bytes were overwritten)
    "invalid-argument",  # a call refused for an invalid argument (EINVAL): count 0, value too
                         # large, a bad attribute, a timeout's tv_nsec out of range
    "cond-not-held",  # cond wait with a mutex the caller does not hold
    "cond-two-mutexes",  # concurrent cond waits with different mutexes
    "wrong-type",  # an object passed as another kind (an rwlock as a mutex)
    "bad-thread",  # join/detach/cancel of the caller itself, or of a thread joined or gone
    "exit-holding",  # a thread (or the process) ended holding a lock
]

# Patterns, per tool, from a report's text to a kind; first match wins; None: not API misuse
# (a race, a lock order, a hint about a signal sent without the mutex).  A Valgrind error's
# text is "KIND: WHAT [in FN]", FN the top frame of its stack (the intercepted call).
LW = [
    (r"which was not locked|tried to unlock .* which it does not hold", "unlock-not-locked"),
    (r"which is held by thread", "unlock-other-owner"),
    (r"again while holding it", "relock"),
    (r"destroyed .* while it was locked", "destroy-locked"),
    (r"destroyed .* while threads were waiting", "destroy-waited"),
    (r"freed the heap block|unmapped the memory", "free-locked"),
    (r"initialised .* again while thread", "reinit-locked"),
    (r"initialised .* again", "reinit"),
    (r"never initialised|holds no valid|after it was destroyed", "not-initialised"),
    (r"failed with EINVAL and|invalid timeout|invalid attributes", "invalid-argument"),
    (r"waited on .* which it does not hold", "cond-not-held"),
    (r"two different mutexes", "cond-two-mutexes"),
    (r"not a mutex", "wrong-type"),
    (r"joined itself|already joined|joined detached|thread ID", "bad-thread"),
    (r"while holding", "exit-holding"),
]
HELGRIND = [
    (r"^Race:", None),
    (r"^LockOrder:", None),
    (r"dubious: associated lock is not held", None),
    (r"^UnlockUnlocked:", "unlock-not-locked"),
    (r"^UnlockForeign:", "unlock-other-owner"),
    (r"^UnlockBogus:", "not-initialised"),
    (r"re-lock a non-recursive lock|recursive write lock granted", "relock"),
    (r"pthread_mutex_destroy of a locked|EBUSY.*in pthread_mutex_destroy", "destroy-locked"),
    (r"barrier_destroy: threads are waiting|destruction of condition variable being waited",
     "destroy-waited"),
    (r"barrier_init: threads are waiting", "reinit-locked"),
    (r"barrier is already initialised", "reinit"),
    (r"never initialised|is uninitialised|invalid mutex|sem_wait succeeded on semaphore without",
     "not-initialised"),
    (r"'count' argument is zero", "invalid-argument"),
    (r"un-held mutex|mutex held by a different thread", "cond-not-held"),
    (r"associated with a different mutex", "cond-two-mutexes"),
    (r"mutex of type pthread_rwlock_t", "wrong-type"),
    (r"Exiting thread still holds", "exit-holding"),
    (r"deallocated location .* containing a locked lock", "free-locked"),
    # PthAPIerror: "Thread #N's call to FN failed with error code N (NAME: ...)".
    (r"call to pthread_(mutex|rwlock)_unlock failed .*EPERM", "unlock-not-locked"),
    (r"call to pthread_cond_\w*wait failed .*EPERM", "cond-not-held"),
    (r"call to pthread_mutex_destroy failed .*EBUSY", "destroy-locked"),
    (r"call to pthread_(join|detach|cancel) failed", "bad-thread"),
    (r"call to pthread_mutex_\w*lock failed .*EDEADLK", "relock"),
    (r"call to (pthread_\w*init|sem_init|pthread_\w*timed\w*) failed .*(EINVAL|EOPNOTSUPP)",
     "invalid-argument"),
    (r"call to (pthread_mutex_\w*|sem_\w*) failed .*EINVAL", "not-initialised"),
]
DRD = [
    (r"^ConflictingAccess:", None),
    (r"^HoldtimeErr:", None),
    (r"Probably a race condition: condition variable", None),
    (r"Mutex not locked by calling thread: .*recursion count 0", "unlock-not-locked"),
    (r"Mutex not locked by calling thread", "unlock-other-owner"),
    (r"Mutex not locked: .*in pthread_cond_", "cond-not-held"),
    (r"Mutex not locked|Reader-writer lock not locked", "unlock-not-locked"),
    (r"Recursive (writer )?locking not allowed", "relock"),
    (r"Destroying locked mutex.*\[in free", "free-locked"),
    (r"Destroying locked", "destroy-locked"),
    (r"Inconsistent association of condition variable and mutex", "cond-two-mutexes"),
    (r"Destruction of a barrier with active waiters|Destruction of barrier not synchronized|"
     r"being waited upon|destroyed while being waited upon", "destroy-waited"),
    (r"reinitialization: .*recursion count [1-9]", "reinit-locked"),
    (r"reinitialization", "reinit"),
    (r"not been initialized|Not a barrier|Invalid semaphore|is not a mutex|not initialized",
     "not-initialised"),
    (r"argument is zero", "invalid-argument"),
    (r"POSIX rwlock as a user-defined|user-defined rwlock as a POSIX", "wrong-type"),
    (r"still locked at thread exit", "exit-holding"),
    (r"^InvalidThreadId:", "bad-thread"),
]


def classify(table, texts):
    for t in texts:
        if not t:
            continue
        for pat, kind in table:
            if re.search(pat, t, re.S):
                return kind
    return "other"


def lw_kinds(d):
    """Returns ({kind: [messages]}, status) for lockwatch's report in d."""
    kinds = {}
    p = os.path.join(d, "lw.json")
    try:
        with open(p) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return kinds, "no-report"
    for fd in doc.get("findings", []):
        if fd.get("kind") != "misuse":
            continue
        msg = fd.get("message", "")
        k = classify(LW, [msg])
        kinds.setdefault(k, []).append("%s: %s" % (fd.get("severity", "?"), msg))
    return kinds, "ok"


def vg_kinds(d, tool):
    """Returns ({kind: [messages]}, status) for Valgrind tool's XML in d."""
    kinds = {}
    p = os.path.join(d, tool + ".xml")
    try:
        text = open(p, errors="replace").read()
    except OSError:
        return kinds, "no-report"
    # A killed run leaves an unclosed document: read the <error> elements one by one.
    status = "ok"
    for m in re.finditer(r"<error>.*?</error>", text, re.S):
        try:
            e = ET.fromstring(m.group(0))
        except ET.ParseError:
            status = "bad-xml"
            continue
        kind = e.findtext("kind") or ""
        what = " ".join(t for t in (e.findtext("xwhat/text"), e.findtext("what"),
                                    e.findtext("auxwhat")) if t)
        fn = e.findtext("stack/frame/fn") or "?"
        text = "%s: %s [in %s]" % (kind, " ".join(what.split()), fn)
        table = HELGRIND if tool == "helgrind" else DRD
        k = classify(table, [text])
        if k is None:
            continue
        kinds.setdefault(k, []).append(text)
    return kinds, status


def rc_status(d, tool):
    try:
        rc = open(os.path.join(d, tool + ".rc")).read().strip()
    except OSError:
        return "not-run"
    if rc == "build":
        return "build"
    rc = int(rc)
    if rc in (0, 66):
        return "ok"
    if rc in (124, 137):
        return "timeout"
    if 128 < rc < 160:
        return "sig%d" % (rc - 128)
    return "exit%d" % rc


def main():
    truth_path, res = sys.argv[1], sys.argv[2]
    cases = sys.argv[3:]
    truth = {}
    bad = 0
    for ln, line in enumerate(open(truth_path), 1):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) != 4:
            print("%s:%d: not 4 tab-separated columns" % (truth_path, ln), file=sys.stderr)
            bad = 1
            continue
        name, req, tol, why = cols
        req = [] if req in ("-", "excluded") else req.split(",")
        tol = [] if tol == "-" else tol.split(",")
        for k in req + tol:
            if k not in KINDS:
                print("%s:%d: %s: unknown kind %s" % (truth_path, ln, name, k), file=sys.stderr)
                bad = 1
        truth[name] = (cols[1] == "excluded", set(req), set(tol), why)
    for c in cases:
        if c not in truth:
            print("thirdparty_misuse_judge: %s is not in %s" % (c, truth_path), file=sys.stderr)
            bad = 1
    tools = [("lw", "lockwatch"), ("helgrind", "Helgrind"), ("drd", "DRD")]
    # cnt[tool][kind] = [found, required, false]
    cnt = {t: {k: [0, 0, 0] for k in KINDS + ["other"]} for t, _ in tools}
    prog_false = {t: 0 for t, _ in tools}
    prog_missed = {t: 0 for t, _ in tools}
    details = []
    summary = open(os.path.join(res, "summary.tsv"), "w")
    summary.write("case\ttruth\ttolerated\tlw\tlw_status\thelgrind\thelgrind_status\tdrd\tdrd_status\n")
    print("\n== per program: the kinds each tool reported (missing required kinds as !kind, "
          "false misuse as +kind) ==")
    print("%-26s %-34s %-30s %-30s %s" % ("program", "truth", "lockwatch", "helgrind", "drd"))
    n_judged = n_excl = 0
    for c in cases:
        if c not in truth:
            continue
        excl, req, tol, why = truth[c]
        d = os.path.join(res, c)
        cols = []
        row = [c, ",".join(sorted(req)) or "-", ",".join(sorted(tol)) or "-"]
        if excl:
            n_excl += 1
        else:
            n_judged += 1
        for t, _ in tools:
            if t == "lw":
                ks, st = lw_kinds(d)
            else:
                ks, st = vg_kinds(d, t)
            rs = rc_status(d, t)
            if rs != "ok":
                st = rs if st == "ok" else "%s,%s" % (rs, st)
            found = set(ks)
            marks = []
            if not excl:
                for k in sorted(req):
                    cnt[t][k][1] += 1
                    if k in found:
                        cnt[t][k][0] += 1
                        marks.append(k)
                    else:
                        marks.append("!" + k)
                fl = False
                for k in sorted(found - req - tol):
                    cnt[t][k][2] += 1
                    marks.append("+" + k)
                    fl = True
                    details.append((t, c, k, ks[k]))
                prog_false[t] += fl
                prog_missed[t] += bool(req - found)
                for k in sorted(found & tol):
                    marks.append("~" + k)
            else:
                marks = sorted(found)
            s = " ".join(marks) or "-"
            if st != "ok":
                s += " [%s]" % st
            cols.append(s)
            row += [" ".join(marks) or "-", st]
        tr = "excluded" if excl else (",".join(sorted(req)) or "clean")
        print("%-26s %-34s %-30s %-30s %s" % (c, tr, cols[0], cols[1], cols[2]))
        summary.write("\t".join(row) + "\n")
    summary.close()

    print("\n== recall and false misuse per kind over %d programs (%d excluded) ==" % (n_judged, n_excl))
    print("   found/required (false: kinds reported on programs that do not commit them)")
    hdr = "%-20s" % "kind" + "".join("%-22s" % n for _, n in tools)
    print(hdr)
    tot = {t: [0, 0, 0] for t, _ in tools}
    for k in KINDS + ["other"]:
        if all(cnt[t][k][1] == 0 and cnt[t][k][2] == 0 for t, _ in tools):
            continue
        line = "%-20s" % k
        for t, _ in tools:
            f, r, x = cnt[t][k]
            tot[t][0] += f
            tot[t][1] += r
            tot[t][2] += x
            line += "%-22s" % ("%d/%d%s" % (f, r, ", false %d" % x if x else ""))
        print(line)
    line = "%-20s" % "all kinds"
    for t, _ in tools:
        f, r, x = tot[t]
        line += "%-22s" % ("%d/%d = %.2f, false %d" % (f, r, f / r if r else 0, x))
    print(line)
    line = "%-20s" % "programs"
    for t, _ in tools:
        line += "%-22s" % ("missed %d, false %d" % (prog_missed[t], prog_false[t]))
    print(line)
    print("\n== false misuse, what was said ==")
    for t, c, k, msgs in details:
        for m in msgs[:3]:
            print("  %-9s %-26s %-18s %s" % (t, c, k, m[:160]))
    print("\n== the truth's reasons ==")
    for c in cases:
        if c in truth:
            print("  %-26s %s" % (c, truth[c][3]))
    return bad


if __name__ == "__main__":
    sys.exit(main())
