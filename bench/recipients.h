// The recipients a load generator spreads its alerts over, so that no per-recipient limit (the
// suite's recipient windows, verification's per-number limits) throttles a run: 100,000 valid US
// numbers, the 10,000 lines of exchange 555 in each of ten area codes.
#pragma once

#include <cstdint>
#include <string>

namespace klaxon::bench {

inline constexpr int64_t kSpreadRecipients = 100'000;

// Recipient `n` (any n >= 0; it wraps after kSpreadRecipients), in E.164.
std::string SpreadRecipient(int64_t n);

}  // namespace klaxon::bench
