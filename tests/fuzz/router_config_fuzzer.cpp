// libFuzzer: the router config parser (--router FILE) on arbitrary text.
#include "fuzz_support.h"
#include "router/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tandem::fuzz::expect_clean(
      [&] { (void)tandem::router::parse_router_config(std::string(tandem::fuzz::as_text(data, size)), "fuzz.json"); });
  return 0;
}
