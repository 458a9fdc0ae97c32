/* Hardware watchpoints on named variables (watch=): resolves the names, arms one
 * perf_event_open breakpoint per variable for the whole process, and records what is
 * watched.  The hits are recorded by the SIGTRAP handler (watch_trap.c). */
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include "access/watch.h"
#include "access/autowatch.h"
#include "access/hooks.h"
#include "core/defs.h"
#include "core/fds.h"
#include "core/msg.h"
#include "core/options.h"
#include "core/stacks.h"
#include "core/threads.h"
#include "core/trace_writer.h"
#include "locks/acquire.h"

struct lw_watch lw_watches[LW_WATCH_MAX];
int lw_n_watches;

static char spec[4096];              /* the watch= values, comma-separated */
static bool no_auto;                 /* watch=off */
static bool access_active;

/* Adds one entry of a watch= list: a name or 0xADDR:SIZE, or (issue 20) auto or off. */
static void add_entry(const char *val, size_t add)
{
	size_t have = strlen(spec);
	if ((add == 4 && !strncmp(val, "auto", 4)) || (add == 3 && !strncmp(val, "off", 3))) {
		no_auto = val[1] == 'f';
		return;
	}
	if (have + 1 + add >= sizeof spec) {
		lw_msg("LOCKWATCH_OPTIONS: watch list too long; '%.*s' ignored", (int)add, val);
		return;
	}
	if (have)
		spec[have++] = ',';
	memcpy(spec + have, val, add);
	spec[have + add] = '\0';
}

void lw_watch_set_spec(const char *val)
{
	/* Issue 20: watch=auto is the default without names; watch=off turns it off.  Names
	 * are watched for the whole run, as before, and automatic watching is then off. */
	while (*val) {
		size_t n = strcspn(val, ", \t");
		if (n)
			add_entry(val, n);
		val += n;
		val += strspn(val, ", \t");
	}
	lw_auto_enabled = !no_auto && !spec[0];
}

void lw_access_configure(void)
{
	bool hooks = lw_hooks_referenced();
	if (hooks && lw_tsan_runtime_loaded()) {
		/* Its __tsan_* functions and the shim's cannot both serve the program. */
		lw_msg("ThreadSanitizer's runtime is loaded: lockwatch does not support a program "
		       "linked with it (build with 'lockwatch cc --tsan-abi'); hook mode is off");
		hooks = false;
	}
	access_active = spec[0] != '\0' || lw_annotations_referenced() || hooks;
	/* Issue 20: hook mode sees every access, and a program that annotates its accesses says
	 * itself which matter: automatic watching would only see some of them again. */
	if (access_active)
		lw_auto_enabled = false;
	/* Issue 20: automatic watching does not raise the level: it writes the order in full
	 * only inside its windows (shim/locks/acquire.c, "watch windows"). */
	if (hooks)
		lw_hooks_init();
	/* Races need the order of every synchronisation, not only the new dependencies. */
	if (access_active)
		lw_opt.level = LW_LEVEL_FULL;
	lw_one_user_unwritten = lw_opt.level == LW_LEVEL_FULL;
	/* The hooks write an owner's access on its behalf when another thread first touches
	 * the location, at the owner's place in the order, where the analyzer takes the locks
	 * it held from the acquisitions in the trace. */
	lw_private_sections = lw_one_user_unwritten && hooks;
}

/* Parses "0xADDR:SIZE" (SIZE optional, default 8).  Returns true when s is an address. */
static bool parse_address(const char *s, uintptr_t *addr, uint64_t *size)
{
	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return false;
	char *end;
	errno = 0;
	unsigned long long a = strtoull(s + 2, &end, 16);
	if (end == s + 2 || errno)
		return false;
	unsigned long long n = 8;
	if (*end == ':' || *end == '/') {
		const char *p = end + 1;
		n = strtoull(p, &end, 0);
		if (end == p || n == 0)
			return false;
	}
	if (*end)
		return false;
	*addr = (uintptr_t)a;
	*size = n;
	return true;
}

/* The largest breakpoint length, 8, 4, 2 or 1, that fits in size bytes at addr. */
static uint32_t bp_len_for(uintptr_t addr, uint64_t size)
{
	uint32_t len = 8;
	while (len > 1 && (len > size || (addr & (len - 1))))
		len /= 2;
	return len;
}

static void write_watch_record(const struct lw_watch *w)
{
	size_t name_len = strlen(w->name);
	uint32_t size = LW_REC_ALIGN(sizeof(struct lw_rec_watch) + name_len);
	struct lw_rec_watch *r = lw_trace_reserve(size);
	if (!r)
		return;
	r->addr = w->addr;
	r->size = w->len;
	r->name_len = (uint16_t)name_len;
	r->armed = (uint16_t)w->armed;
	memcpy(r + 1, w->name, name_len);
	lw_trace_commit(r, LW_REC_WATCH, size);
}

/* Reads the len watched bytes without touching them from user mode (which would trap
 * again).  Returns true and the value, zero-extended. */
bool lw_watch_read(const struct lw_watch *w, uint64_t *value)
{
	uint64_t v = 0;
	/* Not a cached pid: in a fork() child the parent's, with the same layout, would
	 * answer with the parent's value.  A getpid costs little beside the trap. */
	pid_t p = (pid_t)syscall(SYS_getpid);
	struct iovec local = { &v, w->len }, remote = { (void *)w->addr, w->len };
	if (process_vm_readv(p, &local, 1, &remote, 1, 0) != (ssize_t)w->len)
		return false;
	*value = v;
	return true;
}

static const char *perf_error(int err)
{
	switch (err) {
	case EACCES:
	case EPERM:
		return "not permitted (see /proc/sys/kernel/perf_event_paranoid)";
	case ENOSPC:
		return "no free debug register (a debugger or another tool holds them)";
	case ENOENT:
	case EOPNOTSUPP:
	case ENODEV:
		return "this machine offers no hardware breakpoints (a virtual machine?)";
	case EINVAL:
		return "the kernel refused the event (an address it will not watch, or a kernel "
		       "older than 5.13, which has no synchronous SIGTRAP)";
	case ENOSYS:
		return "perf_event_open is not available";
	default:
		return strerror(err);
	}
}

/* Arms the hardware breakpoint of w for this thread and every thread and process it
 * creates from now on.  Returns 0 or a negative errno. */
static int arm(struct lw_watch *w, int index)
{
	struct perf_event_attr at;
	memset(&at, 0, sizeof at);
	at.type = PERF_TYPE_BREAKPOINT;
	at.size = sizeof at;
	at.bp_type = HW_BREAKPOINT_RW;      /* x86 cannot trap reads alone */
	at.bp_addr = w->addr;
	at.bp_len = w->len;
	at.sample_period = 1;
	at.inherit = 1;                     /* threads (and fork children) created later */
	at.remove_on_exec = 1;              /* a new program re-arms from its own symbols */
	at.sigtrap = 1;
	at.sig_data = LW_WATCH_TAG | (uint64_t)index;
	at.exclude_kernel = 1;
	at.exclude_hv = 1;
	int fd = (int)syscall(SYS_perf_event_open, &at, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Out of the numbers the program gets, which it may close or dup2 over (closing it
	 * would disarm); a watch the user named is kept even where that is impossible. */
	bool costly;
	fd = lw_fd_place(fd, &costly);
	w->fd = fd;
	return 0;
}

/* Fills w from one entry of the list.  Returns false (after a message) when it names
 * nothing that can be watched. */
static bool resolve(struct lw_watch *w, const char *entry)
{
	uintptr_t addr;
	uint64_t size;
	char module[256] = "";
	size_t n = strlen(entry);
	if (n >= sizeof w->name)
		n = sizeof w->name - 1;
	memcpy(w->name, entry, n);
	w->name[n] = '\0';
	w->fd = -1;
	if (entry[0] == '0' && (entry[1] == 'x' || entry[1] == 'X')) {
		if (!parse_address(entry, &addr, &size)) {
			lw_msg("watch: bad address '%s' (use 0xADDR:SIZE); not watched", entry);
			return false;
		}
	} else {
		int rc = lw_symbol_lookup(entry, &addr, &size, module, sizeof module);
		if (rc == -EINVAL) {
			lw_msg("watch: '%s' is a thread-local variable; each thread has its own "
			       "copy, and none is watched", entry);
			return false;
		}
		if (rc < 0) {
			lw_msg("watch: no variable '%s' in the symbol tables of the program or its "
			       "libraries (stripped? use watch=0xADDR:SIZE); not watched", entry);
			return false;
		}
		if (size == 0)
			size = 8;
	}
	w->addr = addr;
	w->var_size = (uint32_t)(size > UINT32_MAX ? UINT32_MAX : size);
	w->len = bp_len_for(addr, size);
	if (w->len < size)
		lw_msg("watch: '%s' is %llu bytes; a hardware watchpoint covers %u of them: "
		       "watching its first %u bytes only", entry, (unsigned long long)size,
		       w->len, w->len);
	if (lw_opt.verbose)
		lw_msg("watch: '%s' is %u bytes at %p%s%s", entry, w->len, (void *)addr,
		       module[0] ? " in " : "", module);
	return true;
}

/* Remembers the executable segments, where the trap handler may read code. */
static int text_cb(struct dl_phdr_info *info, size_t sz, void *data)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X))
			lw_decode_add_text(info->dlpi_addr + ph->p_vaddr,
					   info->dlpi_addr + ph->p_vaddr + ph->p_memsz);
	}
	return 0;
}

void lw_watch_arm(void)
{
	lw_auto_start();
	if (!spec[0])
		return;
	int saved = errno;
	dl_iterate_phdr(text_cb, NULL);
	int n_armed = 0;
	char *save = NULL, list[sizeof spec];
	memcpy(list, spec, sizeof spec);
	for (char *e = strtok_r(list, ", \t", &save); e; e = strtok_r(NULL, ", \t", &save)) {
		if (lw_n_watches == LW_WATCH_MAX) {
			lw_msg("watch: too many variables: x86-64 has %d debug registers; '%s' and "
			       "the rest are not watched", LW_WATCH_MAX, e);
			break;
		}
		struct lw_watch *w = &lw_watches[lw_n_watches];
		if (!resolve(w, e))
			continue;
		int index = lw_n_watches++;
		int rc = lw_trap_install();
		if (rc == 0) {
			lw_watch_read(w, &w->last_value);
			rc = arm(w, index);
		}
		if (rc < 0) {
			lw_msg("watch: cannot watch '%s': %s; not watched", w->name, perf_error(-rc));
		} else {
			__atomic_store_n(&w->armed, 1, __ATOMIC_RELEASE);
			n_armed++;
		}
		write_watch_record(w);
	}
	if (lw_opt.verbose && n_armed)
		lw_msg("watch: %d hardware watchpoint%s armed", n_armed, n_armed > 1 ? "s" : "");
	errno = saved;
}

void lw_watch_after_fork(void)
{
	/* The child inherited the breakpoints (inherit=1) and the handler: its new trace only
	 * needs to say what they watch. */
	for (int i = 0; i < lw_n_watches; i++)
		write_watch_record(&lw_watches[i]);
	lw_auto_after_fork();
}

uint32_t lw_access_stack(struct lw_thread *t, uintptr_t pc)
{
	return lw_site_cache_stack(t, pc, pc);
}
