#pragma once
// The daily spend cap of phone verification (docs/adr/0022): each start costs its channel's
// estimated price (KLAXON_VERIFY_PRICES), and a caller's starts in one UTC day may cost at most
// its cap (KLAXON_VERIFY_DAILY_SPEND), so a looping or abused backend cannot run up a bill. The
// amounts are the operator's estimates in the account's currency, kept as millionths.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "klaxon/types/v1/types.pb.h"

namespace klaxon::ingress::verification {

// An amount of money in millionths of the currency's unit, as common/twilio/price.h keeps it:
// 0.0079 is 7,900.
using Micros = int64_t;

struct SpendSettings {
  // Estimated price of one send by channel; a channel without one costs nothing.
  std::map<types::v1::Channel, Micros> prices;
  // Per caller ("*" for callers not listed), the most its starts may cost in a UTC day; empty:
  // no cap.
  std::map<std::string, Micros> daily_caps;
};

// "sms=0.0079,voice=0.014" and "billing=25,*=100", checked together: a cap needs a price for
// every channel (else a channel would be free under it). kInvalidArgument naming the variable.
absl::StatusOr<SpendSettings> ParseSpendSettings(std::string_view prices, std::string_view caps);

// Port: what each caller has spent today, shared by every ingress replica.
class SpendCounter {
 public:
  virtual ~SpendCounter() = default;
  // Adds `amount` to `key`'s spend when that keeps it within `cap`, and returns true; else adds
  // nothing and returns false. The count is dropped some time after `day_ends`. kUnavailable
  // when the store is down.
  virtual absl::StatusOr<bool> Spend(std::string_view key, Micros amount, Micros cap,
                                     absl::Time day_ends) = 0;
};

}  // namespace klaxon::ingress::verification
