// Hook mode, C++17 aligned allocation: two threads add to a field of an over-aligned object
// made with operator new(size_t, std::align_val_t), with no lock (a data race at offset 8 of
// a 64-byte block, named after make_counter(), which allocated it).  Each thread also fills
// an array of over-aligned slots of its own, made with the aligned new[] and deleted in the
// thread, and a nothrow aligned object (no race).  The counter is deleted after the joins
// (no race either).  Built for the TSan ABI only (tests/integration/test_hooks_tsan.c).
#include <cstdio>
#include <new>
#include <thread>

struct alignas(64) Counter {
	long id;
	long hits;               // offset 8: raced on
};

struct alignas(32) Slot {
	long value;
};

__attribute__((noinline)) static Counter *make_counter()
{
	return new Counter{ 1, 0 };
}

int main()
{
	Counter *c = make_counter();
	std::thread t[2];

	for (int i = 0; i < 2; i++)
		t[i] = std::thread([c, i] {
			Slot *own = new Slot[4];
			Counter *mine = new (std::nothrow) Counter{ 2, 0 };
			for (int k = 0; k < 1000; k++) {
				c->hits += 1;
				own[k % 4].value = k + i;
				if (mine)
					mine->hits += k;
			}
			delete mine;
			delete[] own;
		});
	for (auto &x : t)
		x.join();
	std::printf("hits %ld\n", c->hits);
	delete c;
	return 0;
}
