// libFuzzer: the privacy scanners (Chinese and English, after normalization) and the
// redaction round trip on arbitrary bytes. Findings must lie inside the text, in order,
// and redacting then restoring must give the text back.
#include "fuzz_support.h"
#include "router/privacy.h"
#include "router/redaction.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tandem::router;
  const std::string_view text = tandem::fuzz::as_text(data, size);
  tandem::fuzz::expect_clean([&] {
    size_t end = 0;
    for (const PiiFinding& f : scan_pii(text)) {
      if (f.begin < end || f.end < f.begin || f.end > text.size()) std::abort();  // overlapping or outside
      end = f.end;
    }
    (void)find_pii(text);
    Redactor redactor;
    const std::string redacted = redactor.redact(text);
    // (A text holding placeholder-like "[KIND_N]" itself is restored ambiguously by design.)
    if (text.find('[') == std::string_view::npos && redactor.restore(redacted) != text) std::abort();
  });
  return 0;
}
