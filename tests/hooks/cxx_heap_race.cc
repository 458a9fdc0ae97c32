// Hook mode, C++: two threads add to a field of an object made with operator new, with no
// lock (a data race at offset 8 of a 24-byte block, named after make_account(), which
// allocated it), and each fills an array of its own made with new[] and deleted in the
// thread (no race).  The object is deleted after the joins (no race either).  Built for the
// TSan ABI only (g++ and clang++ --tsan-abi: tests/integration/test_hooks_tsan.c).
#include <cstdio>
#include <thread>

struct Account {
	long id;
	long balance;            // offset 8: raced on
	long spare;
};

__attribute__((noinline)) static Account *make_account()
{
	return new Account{ 1, 0, 0 };
}

int main()
{
	Account *a = make_account();
	std::thread t[2];

	for (int i = 0; i < 2; i++)
		t[i] = std::thread([a, i] {
			int *own = new int[16];
			for (int k = 0; k < 1000; k++) {
				a->balance += 1;
				own[k % 16] = k + i;
			}
			delete[] own;
		});
	for (auto &x : t)
		x.join();
	std::printf("balance %ld\n", a->balance);
	delete a;
	return 0;
}
