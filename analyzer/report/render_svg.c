/* The lock-order graph as SVG: the DOT text piped through Graphviz's dot program. */
#include "base/msg.h"
#include "report/render.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

bool lw_dot_available(void)
{
	const char *path = getenv("PATH");

	if (!path || !*path)
		path = "/bin:/usr/bin";
	for (const char *p = path;; p++) {
		const char *e = strchrnul(p, ':');
		char *cand = lw_xasprintf("%.*s/dot", e == p ? 1 : (int)(e - p), e == p ? "." : p);
		struct stat st;
		bool ok = stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0;

		free(cand);
		if (ok)
			return true;
		if (!*e)
			return false;
		p = e;
	}
}

int lw_render_svg(const struct lw_findings *fs, struct lw_model *m, bool all, FILE *out)
{
	char *dot_text = NULL;
	size_t dot_len = 0, off = 0;
	FILE *mem = open_memstream(&dot_text, &dot_len);
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	int pfd[2], status, rc = 0;
	pid_t pid;

	if (!mem) {
		lw_msg_error("cannot make the graph: %s", strerror(errno));
		return -1;
	}
	lw_render_dot(fs, m, all, mem);
	fclose(mem);
	fflush(out);
	if (pipe(pfd) < 0) {
		lw_msg_error("pipe: %s", strerror(errno));
		free(dot_text);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		lw_msg_error("fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		free(dot_text);
		return -1;
	}
	if (pid == 0) {
		close(pfd[1]);
		if (dup2(pfd[0], 0) < 0 || dup2(fileno(out), 1) < 0)
			_exit(127);
		close(pfd[0]);
		execlp("dot", "dot", "-Tsvg", (char *)NULL);
		_exit(127);
	}
	close(pfd[0]);
	/* If dot dies early, a write must fail with EPIPE rather than kill us. */
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &old);
	while (off < dot_len) {
		ssize_t n = write(pfd[1], dot_text + off, dot_len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(pfd[1]);
	sigaction(SIGPIPE, &old, NULL);
	free(dot_text);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			status = 127 << 8;
			break;
		}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
			lw_msg_error("cannot run 'dot' (Graphviz) for --format svg; install "
				     "graphviz, or use --format dot");
		else
			lw_msg_error("'dot -Tsvg' failed (status 0x%x)", (unsigned)status);
		rc = -1;
	}
	return rc;
}
