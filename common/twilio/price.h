#pragma once
// Amounts of money as Twilio writes them ("-0.00790" in a resource's price) and as Klaxon keeps
// them: whole millionths of the currency's unit, so sums and budgets never round (docs/adr/0036).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace klaxon::twilio {

// One currency unit in micros.
inline constexpr int64_t kMicrosPerUnit = 1'000'000;

// A decimal ("0.0079", "-0.00750", "12", "+3.5") in micros. kInvalidArgument naming the text for
// anything else: no digits, more than six decimals, exponents, or more than 9,000,000,000,000
// units.
absl::StatusOr<int64_t> ParseMicros(std::string_view decimal);

// Micros as a decimal with at least two decimals and no trailing zeros past them: 15800 gives
// "0.0158", 1000000 "1.00", -7500 "-0.0075".
std::string FormatMicros(int64_t micros);

// Prices by destination: E.164 prefixes ("+1", "+44") and "*" for any other, each with its
// price in micros.
using PrefixPrices = std::map<std::string, int64_t>;
// The price of the longest prefix `number` starts with, else of "*", else 0.
int64_t PriceFor(const PrefixPrices& prices, std::string_view number);

// What Twilio charged for a resource: its price negated (Twilio writes a charge as a negative
// price), in its price_unit upper-cased. Empty while Twilio has not priced the resource (price
// null, absent or not a decimal, or no price_unit).
struct Charge {
  int64_t micros = 0;
  std::string currency;  // ISO 4217: "USD"
};
std::optional<Charge> ChargeOf(std::string_view price, std::string_view price_unit);

}  // namespace klaxon::twilio
