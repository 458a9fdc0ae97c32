/* Test program (issue 22): GLib's GMutex initialised twice without a clear, initialised
 * while held, cleared while held, and the correct sequence.  argv[1] names the scenario.
 * Exits 0, 2 on an unknown scenario. */
#include <glib.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	const char *s = argc > 1 ? argv[1] : "";
	GMutex m;

	g_mutex_init(&m);
	if (!strcmp(s, "reinit")) {
		g_mutex_lock(&m);
		g_mutex_unlock(&m);
		g_mutex_init(&m);                /* no g_mutex_clear before */
	} else if (!strcmp(s, "reinit-locked")) {
		g_mutex_lock(&m);
		g_mutex_init(&m);
		return 0;
	} else if (!strcmp(s, "clear-locked")) {
		g_mutex_lock(&m);
		g_mutex_clear(&m);
		return 0;
	} else if (!strcmp(s, "clean")) {
		g_mutex_lock(&m);
		g_mutex_unlock(&m);
		g_mutex_clear(&m);
		g_mutex_init(&m);
		g_mutex_lock(&m);
		g_mutex_unlock(&m);
	} else {
		fprintf(stderr, "glib_misuse: unknown scenario '%s'\n", s);
		return 2;
	}
	g_mutex_clear(&m);
	return 0;
}
