#define _GNU_SOURCE
/* Test program: every interposed call must give the program exactly what the real one
 * gives, result and errno.  Exits 0 when all checks hold, 1 otherwise (with the failures
 * on stderr); it runs natively and under the shim with the same outcome. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

static int failures;

#define CHECK(expr, want) do { \
	int got_ = (expr); \
	if (got_ != (want)) { \
		fprintf(stderr, "%s:%d: %s = %d, want %d\n", __FILE__, __LINE__, #expr, got_, (want)); \
		failures++; \
	} } while (0)
#define CHECK_ERRNO(expr, want_rc, want_errno) do { \
	errno = 0; \
	int got_ = (expr); \
	int err_ = errno; \
	if (got_ != (want_rc) || err_ != (want_errno)) { \
		fprintf(stderr, "%s:%d: %s = %d errno %d, want %d errno %d\n", __FILE__, __LINE__, \
			#expr, got_, err_, (want_rc), (want_errno)); \
		failures++; \
	} } while (0)

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static sem_t sem;
static volatile sig_atomic_t handled;

static void on_alarm(int sig)
{
	(void)sig;
	sem_post(&sem);              /* async-signal-safe, also under the shim */
	handled = 1;
}

static void *hold_m(void *arg)
{
	pthread_mutex_lock(&m);
	sem_post(&sem);
	usleep(200000);
	pthread_mutex_unlock(&m);
	return arg;
}

static void *ret_value(void *arg)
{
	return (char *)arg + 1;
}

static void *exit_value(void *arg)
{
	pthread_exit((char *)arg + 2);
}

int main(void)
{
	struct timespec past = { 0, 0 }, soon;
	pthread_t t;
	void *ret;

	CHECK(sem_init(&sem, 0, 0), 0);
	CHECK(pthread_create(&t, NULL, hold_m, NULL), 0);
	CHECK(sem_wait(&sem), 0);
	CHECK(pthread_mutex_trylock(&m), EBUSY);
	CHECK(pthread_mutex_timedlock(&m, &past), ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &soon);
	CHECK(pthread_mutex_clocklock(&m, CLOCK_MONOTONIC, &soon), ETIMEDOUT);
	CHECK(pthread_join(t, &ret), 0);
	CHECK(pthread_mutex_trylock(&m), 0);
	CHECK(pthread_mutex_unlock(&m), 0);

	pthread_mutexattr_t a;
	pthread_mutex_t ec;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
	CHECK(pthread_mutex_init(&ec, &a), 0);
	CHECK(pthread_mutex_unlock(&ec), EPERM);
	CHECK(pthread_mutex_lock(&ec), 0);
	CHECK(pthread_mutex_lock(&ec), EDEADLK);
	CHECK(pthread_mutex_unlock(&ec), 0);
	CHECK(pthread_mutex_destroy(&ec), 0);

	pthread_mutex_t rec;
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	CHECK(pthread_mutex_init(&rec, &a), 0);
	CHECK(pthread_mutex_lock(&rec), 0);
	CHECK(pthread_mutex_lock(&rec), 0);
	CHECK(pthread_mutex_unlock(&rec), 0);
	CHECK(pthread_mutex_unlock(&rec), 0);
	CHECK(pthread_mutex_unlock(&rec), EPERM);
	pthread_mutexattr_destroy(&a);

	CHECK(pthread_rwlock_rdlock(&rw), 0);
	CHECK(pthread_rwlock_tryrdlock(&rw), 0);
	CHECK(pthread_rwlock_trywrlock(&rw), EBUSY);
	CHECK(pthread_rwlock_timedwrlock(&rw, &past), ETIMEDOUT);
	CHECK(pthread_rwlock_unlock(&rw), 0);
	CHECK(pthread_rwlock_unlock(&rw), 0);
	CHECK(pthread_rwlock_wrlock(&rw), 0);
	CHECK(pthread_rwlock_tryrdlock(&rw), EBUSY);
	clock_gettime(CLOCK_MONOTONIC, &soon);
	CHECK(pthread_rwlock_clockrdlock(&rw, CLOCK_MONOTONIC, &soon), EDEADLK);
	CHECK(pthread_rwlock_unlock(&rw), 0);

	pthread_spinlock_t sp;
	CHECK(pthread_spin_init(&sp, PTHREAD_PROCESS_PRIVATE), 0);
	CHECK(pthread_spin_lock(&sp), 0);
	CHECK(pthread_spin_trylock(&sp), EBUSY);
	CHECK(pthread_spin_unlock(&sp), 0);
	CHECK(pthread_spin_destroy(&sp), 0);

	CHECK_ERRNO(sem_trywait(&sem), -1, EAGAIN);
	CHECK_ERRNO(sem_timedwait(&sem, &past), -1, ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &soon);
	CHECK_ERRNO(sem_clockwait(&sem, CLOCK_MONOTONIC, &soon), -1, ETIMEDOUT);
	CHECK_ERRNO(sem_post(&sem), 0, 0);
	CHECK_ERRNO(sem_wait(&sem), 0, 0);

	/* sem_post from a signal handler while the main thread waits in sem_wait. */
	signal(SIGALRM, on_alarm);
	alarm(1);
	CHECK_ERRNO(sem_wait(&sem), 0, 0);
	CHECK(handled, 1);

	CHECK(pthread_mutex_lock(&m), 0);
	clock_gettime(CLOCK_REALTIME, &soon);
	soon.tv_nsec += 10000000;
	if (soon.tv_nsec >= 1000000000) {
		soon.tv_sec++;
		soon.tv_nsec -= 1000000000;
	}
	CHECK(pthread_cond_timedwait(&cv, &m, &soon), ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &soon);
	CHECK(pthread_cond_clockwait(&cv, &m, CLOCK_MONOTONIC, &soon), ETIMEDOUT);
	CHECK(pthread_mutex_unlock(&m), 0);
	CHECK(pthread_cond_signal(&cv), 0);
	CHECK(pthread_cond_broadcast(&cv), 0);

	sem_t *named = sem_open("/lockwatch-passthrough", O_CREAT, 0600, 1);
	CHECK(named != SEM_FAILED, 1);
	CHECK_ERRNO(sem_wait(named), 0, 0);
	CHECK_ERRNO(sem_post(named), 0, 0);
	CHECK_ERRNO(sem_close(named), 0, 0);
	sem_unlink("/lockwatch-passthrough");
	errno = 0;
	CHECK(sem_open("/lockwatch-no-such-sem", 0) == SEM_FAILED, 1);
	CHECK(errno, ENOENT);

	CHECK(pthread_create(&t, NULL, ret_value, (void *)100), 0);
	CHECK(pthread_join(t, &ret), 0);
	CHECK(ret == (void *)101, 1);
	CHECK(pthread_create(&t, NULL, exit_value, (void *)100), 0);
	CHECK(pthread_join(t, &ret), 0);
	CHECK(ret == (void *)102, 1);
	CHECK(pthread_join(t, &ret) != 0, 1);
	CHECK(pthread_create(&t, NULL, ret_value, NULL), 0);
	CHECK(pthread_detach(t), 0);

	pthread_barrier_t b;
	CHECK(pthread_barrier_init(&b, NULL, 1), 0);
	CHECK(pthread_barrier_wait(&b), PTHREAD_BARRIER_SERIAL_THREAD);
	CHECK(pthread_barrier_destroy(&b), 0);

	errno = 0;
	pid_t pid = fork();
	if (pid == 0)
		_exit(7);
	int st;
	CHECK(waitpid(pid, &st, 0) == pid, 1);
	CHECK(WEXITSTATUS(st), 7);

	CHECK(sem_destroy(&sem), 0);
	printf("passthrough: %d failures\n", failures);
	return failures != 0;
}
