#include "common/twilio/price.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace klaxon::twilio {
namespace {

constexpr int kMaxDecimals = 6;
// A billion units: in micros below 2^53, so a Lua script (the budgets' ledger) compares them
// exactly.
constexpr int64_t kMaxUnits = 1'000'000'000;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

absl::StatusOr<int64_t> ParseMicros(std::string_view decimal) {
  const auto invalid = [decimal](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", std::string(decimal), "\" is not an amount of money: ", std::string(why)));
  };
  std::string_view rest = decimal;
  bool negative = false;
  if (!rest.empty() && (rest.front() == '-' || rest.front() == '+')) {
    negative = rest.front() == '-';
    rest.remove_prefix(1);
  }
  int64_t units = 0;
  int64_t fraction = 0;
  int integer_digits = 0;
  int decimals = 0;
  bool in_fraction = false;
  for (const char c : rest) {
    if (c == '.' && !in_fraction) {
      in_fraction = true;
      continue;
    }
    if (!IsDigit(c)) return invalid("write it as digits with an optional sign and decimal point");
    if (in_fraction) {
      if (++decimals > kMaxDecimals) return invalid("at most six decimals");
      fraction = fraction * 10 + (c - '0');
    } else {
      ++integer_digits;
      units = units * 10 + (c - '0');
      if (units > kMaxUnits) return invalid("too large");
    }
  }
  if (integer_digits + decimals == 0) return invalid("no digits");
  for (int i = decimals; i < kMaxDecimals; ++i) fraction *= 10;
  const int64_t micros = units * kMicrosPerUnit + fraction;
  return negative ? -micros : micros;
}

std::string FormatMicros(int64_t micros) {
  const bool negative = micros < 0;
  constexpr auto kUnit = static_cast<uint64_t>(kMicrosPerUnit);
  const uint64_t magnitude =
      negative ? static_cast<uint64_t>(-(micros + 1)) + 1 : static_cast<uint64_t>(micros);
  std::string fraction = absl::StrFormat("%06d", magnitude % kUnit);
  while (fraction.size() > 2 && fraction.back() == '0') fraction.pop_back();
  return absl::StrCat(negative ? "-" : "", magnitude / kUnit, ".", fraction);
}

int64_t PriceFor(const PrefixPrices& prices, std::string_view number) {
  const auto any = prices.find("*");
  int64_t price = any == prices.end() ? 0 : any->second;
  size_t longest = 0;
  for (const auto& [prefix, prefix_price] : prices) {
    if (prefix != "*" && prefix.size() > longest && number.starts_with(prefix)) {
      longest = prefix.size();
      price = prefix_price;
    }
  }
  return price;
}

std::optional<Charge> ChargeOf(std::string_view price, std::string_view price_unit) {
  if (price.empty() || price_unit.empty()) return std::nullopt;
  const absl::StatusOr<int64_t> micros = ParseMicros(price);
  if (!micros.ok()) return std::nullopt;
  return Charge{.micros = -*micros, .currency = absl::AsciiStrToUpper(std::string(price_unit))};
}

}  // namespace klaxon::twilio
