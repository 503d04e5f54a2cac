#include "support/allocation_tracker.h"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<size_t> g_largest_allocation{0};

void* tracked_allocate(size_t size) {
  size_t seen = g_largest_allocation.load(std::memory_order_relaxed);
  while (size > seen && !g_largest_allocation.compare_exchange_weak(seen, size, std::memory_order_relaxed)) {
  }
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
}  // namespace

// Every form that the replaced deletes below free, the nothrow ones included (std::stable_sort's
// buffer): under ASan a new left to the runtime and freed here is an alloc-dealloc mismatch.
void* operator new(size_t size) { return tracked_allocate(size); }
void* operator new[](size_t size) { return tracked_allocate(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  try {
    return tracked_allocate(size);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}
void* operator new[](size_t size, const std::nothrow_t& tag) noexcept { return operator new(size, tag); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace tandem::test {

void reset_largest_allocation() { g_largest_allocation = 0; }
size_t largest_allocation() { return g_largest_allocation.load(); }

}  // namespace tandem::test
