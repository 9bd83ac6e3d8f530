#include "bench/recipients.h"

#include "absl/strings/str_format.h"

namespace klaxon::bench {
namespace {

constexpr const char* kAreaCodes[] = {"415", "212", "312", "646", "718",
                                      "617", "206", "303", "404", "512"};

}  // namespace

std::string SpreadRecipient(int64_t n) {
  const int64_t k = n % kSpreadRecipients;
  return absl::StrFormat("+1%s555%04d", kAreaCodes[k / 10'000], k % 10'000);
}

}  // namespace klaxon::bench
