/* Test library (exit_locking.c): exitlate_register(fn) has fn run after every destructor of
 * the process, the shim's included.  This library's destructor runs inside the loader's
 * _dl_fini; an exit handler registered there with no DSO runs once _dl_fini has returned. */
extern int __cxa_atexit(void (*fn)(void *), void *arg, void *dso);

static void (*late_fn)(void *);

void exitlate_register(void (*fn)(void *))
{
	late_fn = fn;
}

__attribute__((destructor)) static void exitlate_fini(void)
{
	if (late_fn)
		__cxa_atexit(late_fn, 0, 0);
}
