/* wait, waitpid, wait3, wait4, waitid, vfork, posix_spawn, system: where a process starts and reaps its
 * children, so the analyzer can order the processes of a run as it orders threads. */
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include "locks/wrap.h"
#include "core/msg.h"
#include "core/real.h"
#include "core/stacks.h"
#include "core/trace_writer.h"
#include "locks/misuse.h"
#include "locks/watchdog.h"

/*
 * Two SYNC records, written at every level (a check-then-act on files is judged at the
 * default level, and these are as rare as the processes they order):
 *
 *   LW_SYNC_FORK        value: the child's pid, right after fork, vfork or posix_spawn
 *                       returned it in the parent: the child's life starts after the
 *                       parent's events before this one.
 *   LW_SYNC_WAIT_CHILD  value: the reaped child's pid, after a wait call returned the end of
 *                       a child (exited or killed; a stop or continue report is not an
 *                       end, and WNOWAIT leaves the child to be reaped again): the child's
 *                       whole life happens before the parent's events after this one.
 *
 * system() starts and reaps its shell inside the C library, where no wrapper sees it: it is
 * bracketed by LW_SYNC_SYSTEM_BEGIN and LW_SYNC_SYSTEM_END, whose value is the time
 * (CLOCK_REALTIME, the clock of the trace header's start_ns), so that the analyzer can tell
 * the shell's trace, started between the two, as that call's child.
 *
 * The real functions are looked up here, once, rather than in real.c: nothing else in the
 * shim calls them.
 */

/* Writes a SYNC record of op with value, at every level. */
static void record_value(struct lw_thread *t, uint16_t op, uint64_t value)
{
	struct lw_rec_sync *r = lw_trace_reserve(sizeof *r);
	if (!r)
		return;
	r->tid = t->tid;
	r->op = op;
	r->addr = 0;
	r->value = value;
	r->stack = 0;
	r->seq = lw_next_seq();
	lw_trace_commit(r, LW_REC_SYNC, sizeof *r);
}

void lw_record_child(struct lw_thread *t, uint16_t op, pid_t pid)
{
	record_value(t, op, (uint64_t)pid);
}

#define REAL_WAIT(type, name) \
	static void *real_##name##_; \
	static type real_##name(void) { return (type)lw_real_fn(&real_##name##_, #name); }

typedef pid_t (*wait4_fn)(pid_t, int *, int, struct rusage *);
typedef int (*waitid_fn)(idtype_t, id_t, siginfo_t *, int);
typedef int (*system_fn)(const char *);
typedef int (*spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
			const posix_spawnattr_t *, char *const[], char *const[]);
REAL_WAIT(wait4_fn, wait4)
REAL_WAIT(waitid_fn, waitid)
REAL_WAIT(spawn_fn, posix_spawn)
REAL_WAIT(spawn_fn, posix_spawnp)
REAL_WAIT(system_fn, system)

/* Resolved at start-up too: a SIGCHLD handler may make the first wait call, and dlsym is
 * not async-signal-safe. */
__attribute__((constructor)) static void resolve_wait_fns(void)
{
	real_wait4();
	real_waitid();
	real_posix_spawn();
	real_posix_spawnp();
	real_system();
}

/* After a wait call returned pid with status st: records the reap if it was one. */
static void reaped(pid_t pid, int st)
{
	if (pid <= 0 || !(WIFEXITED(st) || WIFSIGNALED(st)))
		return;
	int saved = errno;
	struct lw_thread *t = lw_enter();
	if (t) {
		lw_record_child(t, LW_SYNC_WAIT_CHILD, pid);
		lw_leave();
	}
	errno = saved;
}

/* wait, waitpid, wait3 and wait4 all come here; a caller that passes no status gets a local
 * one, so that its reaps are still told from its stop reports. */
static pid_t wait_common(pid_t who, int *status, int options, struct rusage *ru)
{
	wait4_fn f = real_wait4();
	int st = 0, *sp = status ? status : &st;
	pid_t pid;

	if (!f)
		return (pid_t)syscall(SYS_wait4, who, status, options, ru);
	pid = f(who, sp, options, ru);
	if (pid > 0)
		reaped(pid, *sp);
	return pid;
}

LW_EXPORT pid_t wait(int *status)
{
	return wait_common(-1, status, 0, NULL);
}

LW_EXPORT pid_t waitpid(pid_t pid, int *status, int options)
{
	return wait_common(pid, status, options, NULL);
}

LW_EXPORT pid_t wait3(int *status, int options, struct rusage *ru)
{
	return wait_common(-1, status, options, ru);
}

LW_EXPORT pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
	return wait_common(pid, status, options, ru);
}

LW_EXPORT int waitid(idtype_t idtype, id_t id, siginfo_t *info, int options)
{
	waitid_fn f = real_waitid();
	int rc;

	if (!f)
		return (int)syscall(SYS_waitid, idtype, id, info, options, NULL);
	rc = f(idtype, id, info, options);
	if (rc == 0 && info && !(options & WNOWAIT) && info->si_pid > 0 &&
	    (info->si_code == CLD_EXITED || info->si_code == CLD_KILLED ||
	     info->si_code == CLD_DUMPED))
		reaped(info->si_pid, info->si_code == CLD_EXITED ? 0 : SIGKILL);
	return rc;
}

/* After a child was started: records where. */
static void started(pid_t pid)
{
	int saved = errno;
	struct lw_thread *t = lw_enter();
	if (t) {
		lw_record_child(t, LW_SYNC_FORK, pid);
		lw_leave();
	}
	errno = saved;
}

static int spawn_common(spawn_fn f, pid_t *pid, const char *path,
			const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
			char *const argv[], char *const envp[])
{
	pid_t child = 0;
	int rc;

	if (!f)
		return ENOSYS;
	rc = f(&child, path, fa, attr, argv, envp);
	if (rc == 0) {
		if (pid)
			*pid = child;
		started(child);
	}
	return rc;
}

LW_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
			  const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	return spawn_common(real_posix_spawn(), pid, path, fa, attr, argv, envp);
}

LW_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
			   const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	return spawn_common(real_posix_spawnp(), pid, file, fa, attr, argv, envp);
}

/* Records op with the time now. */
static void system_mark(uint16_t op)
{
	int saved = errno;
	struct lw_thread *t = lw_enter();
	if (t) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		record_value(t, op, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
		lw_leave();
	}
	errno = saved;
}

LW_EXPORT int system(const char *command)
{
	system_fn f = real_system();
	int rc;

	if (!f) {
		errno = ENOSYS;
		return -1;
	}
	if (!command)
		return f(command);      /* only asks whether a shell exists */
	system_mark(LW_SYNC_SYSTEM_BEGIN);
	rc = f(command);
	system_mark(LW_SYNC_SYSTEM_END);
	return rc;
}

/*
 * vfork: the child borrows the parent's memory and stack until it execs or exits, so no
 * wrapper frame may live across the system call (the child's frames overwrite it).  As
 * glibc's own vfork does, the return address is kept in a register through the call; the
 * parent, which runs again only once the child has exec'd or exited, then records the
 * child's start in an ordinary call before returning.  Failure sets errno as vfork does.
 */
LW_HIDDEN void lw_vfork_parent(long rc);

#define LW_STR_(x) #x
#define LW_STR(x) LW_STR_(x)

void lw_vfork_parent(long rc)
{
	if (rc < 0) {
		errno = (int)-rc;
		return;
	}
	started((pid_t)rc);
}

#if defined(__x86_64__)
__asm__(
	"	.text\n"
	"	.globl vfork\n"
	"	.type vfork, @function\n"
	"vfork:\n"
	"	.cfi_startproc\n"
	"	popq %rdi\n"                    /* the return address, kept in rdi */
	"	.cfi_adjust_cfa_offset -8\n"
	"	movl $" LW_STR(SYS_vfork) ", %eax\n"
	"	syscall\n"
	"	pushq %rdi\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	testq %rax, %rax\n"
	"	jz 1f\n"                        /* the child: return 0, touch nothing */
	"	pushq %rax\n"                   /* the parent: the stack is its own again */
	"	.cfi_adjust_cfa_offset 8\n"
	"	movq %rax, %rdi\n"
	"	call lw_vfork_parent\n"
	"	popq %rax\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	cmpq $-4095, %rax\n"
	"	jb 1f\n"
	"	movq $-1, %rax\n"
	"1:	ret\n"
	"	.cfi_endproc\n"
	"	.size vfork, .-vfork\n");
#else
#error "vfork's wrapper is written for x86-64"
#endif
