// Hook mode, C++: std::thread, std::mutex, std::atomic, shared_ptr reference counts, objects
// with virtual functions built and destroyed in each thread (vptr updates), and exceptions
// thrown through instrumented frames.  No data race, no atomicity violation.  Built for the
// TSan ABI only (g++ and clang++ --tsan-abi: tests/integration/test_hooks_tsan.c).
#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

struct Base {
	virtual ~Base() {}
	virtual long get() const { return 1; }
};

struct Derived : Base {
	long v;
	explicit Derived(long x) : v(x) {}
	long get() const override { return v; }
};

static std::mutex m;
static long total;
static std::atomic<int> done{0};
static std::shared_ptr<Base> shared;

static long every_seventh_throws(int i)
{
	if (i % 7 == 0)
		throw std::runtime_error("seventh");
	return i;
}

int main()
{
	std::vector<std::thread> threads;

	shared = std::make_shared<Derived>(5);
	for (int t = 0; t < 4; t++)
		threads.emplace_back([] {
			std::shared_ptr<Base> mine = shared;
			long local = 0;
			for (int i = 0; i < 200; i++) {
				try {
					local += every_seventh_throws(i);
				} catch (const std::exception &) {
					local--;
				}
				std::unique_ptr<Base> b(new Derived(i));
				local += b->get() + mine->get();
			}
			std::lock_guard<std::mutex> g(m);
			total += local;
			done.fetch_add(1, std::memory_order_release);
		});
	for (auto &t : threads)
		t.join();
	std::printf("total %ld done %d\n", total, done.load());
	return total == 4 * 37929 && done.load() == 4 ? 0 : 1;
}
