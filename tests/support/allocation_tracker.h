// The largest single heap allocation since the last reset, so a fuzz test can bound what a
// corrupt count or length made a reader request. Linked into the tests under tests/fuzz/,
// whose operator new it replaces (support/allocation_tracker.cpp).
#pragma once
#include <cstddef>

namespace tandem::test {

void reset_largest_allocation();
size_t largest_allocation();

}  // namespace tandem::test
