#include "common/ids/uuid.h"

#include <array>
#include <cstdint>

#include "absl/random/distributions.h"
#include "absl/status/status.h"

namespace klaxon::ids {
namespace {

constexpr int64_t kMaxUnixMillis = (int64_t{1} << 48) - 1;
constexpr int64_t kNanosPerMilli = 1'000'000;
constexpr char kHex[] = "0123456789abcdef";
// Offsets of the dashes in the canonical 36-character form.
constexpr std::array<size_t, 4> kDashes = {8, 13, 18, 23};

bool IsDash(size_t index) {
  for (size_t dash : kDashes) {
    if (index == dash) return true;
  }
  return false;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::string NewUuidV7(absl::Time now, absl::BitGenRef gen) {
  int64_t millis = absl::ToUnixMillis(now);
  int64_t sub_milli_nanos =
      absl::ToInt64Nanoseconds(now - absl::FromUnixMillis(millis));  // in [0, 1ms)
  if (millis < 0) {
    millis = 0;
    sub_milli_nanos = 0;
  } else if (millis > kMaxUnixMillis) {
    millis = kMaxUnixMillis;
    sub_milli_nanos = kNanosPerMilli - 1;
  }
  const auto unix_ts_ms = static_cast<uint64_t>(millis);
  const auto rand_a = static_cast<uint64_t>(sub_milli_nanos * 4096 / kNanosPerMilli);  // 12 bits
  const uint64_t rand_b = absl::Uniform<uint64_t>(gen) >> 2;                           // 62 bits

  const uint64_t high = (unix_ts_ms << 16) | (uint64_t{0x7} << 12) | rand_a;
  const uint64_t low = (uint64_t{0x2} << 62) | rand_b;

  std::string text;
  text.reserve(36);
  for (int shift = 60; shift >= 0; shift -= 4) {
    if (text.size() == 8 || text.size() == 13) text.push_back('-');
    text.push_back(kHex[(high >> shift) & 0xf]);
  }
  for (int shift = 60; shift >= 0; shift -= 4) {
    if (text.size() == 18 || text.size() == 23) text.push_back('-');
    text.push_back(kHex[(low >> shift) & 0xf]);
  }
  return text;
}

bool IsUuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (IsDash(i) ? text[i] != '-' : HexValue(text[i]) < 0) return false;
  }
  return true;
}

absl::StatusOr<absl::Time> UuidV7Time(std::string_view uuid) {
  if (!IsUuid(uuid)) {
    return absl::InvalidArgumentError("uuid is not a canonical lowercase UUID");
  }
  // Version: first digit of the third group; variant: top two bits of the fourth group.
  if (uuid[14] != '7' || (HexValue(uuid[19]) & 0xc) != 0x8) {
    return absl::InvalidArgumentError("uuid is not a version 7 RFC 9562 UUID");
  }
  int64_t millis = 0;
  for (size_t i = 0; i < 13; ++i) {
    if (i == 8) continue;
    millis = millis * 16 + HexValue(uuid[i]);
  }
  return absl::FromUnixMillis(millis);
}

}  // namespace klaxon::ids
