#include "services/ingress/verification/daily_spend.h"

#include <utility>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace klaxon::ingress::verification {
namespace {

constexpr Micros kMicrosPerUnit = 1'000'000;

bool AllDigits(absl::string_view text) {
  return absl::c_all_of(text,
                        [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); });
}

// Splits "name=value,..." into pairs; kInvalidArgument naming `variable` for an entry without
// '=', an empty name or a repeated one.
absl::StatusOr<std::map<std::string, Micros>> ParseNamedAmounts(std::string_view text,
                                                                std::string_view variable) {
  std::map<std::string, Micros> amounts;
  for (absl::string_view entry :
       absl::StrSplit(absl::string_view(text.data(), text.size()), ',', absl::SkipWhitespace())) {
    entry = absl::StripAsciiWhitespace(entry);
    const std::pair<absl::string_view, absl::string_view> parts =
        absl::StrSplit(entry, absl::MaxSplits('=', 1));
    absl::StatusOr<Micros> amount =
        ParseAmount(std::string_view(parts.second.data(), parts.second.size()));
    if (parts.first.empty() || !amount.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(std::string(variable), ": entry \"", entry,
                       "\" is not <name>=<amount>, e.g. sms=0.0079 or billing=25"));
    }
    if (!amounts.emplace(std::string(parts.first), *amount).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(std::string(variable), ": \"", parts.first, "\" is given twice"));
    }
  }
  return amounts;
}

}  // namespace

absl::StatusOr<Micros> ParseAmount(std::string_view text) {
  const absl::string_view view(text.data(), text.size());
  const std::pair<absl::string_view, absl::string_view> parts = absl::StrSplit(view, '.');
  Micros units = 0;
  if (parts.first.empty() || parts.second.size() > 6 || absl::c_count(view, '.') > 1 ||
      !AllDigits(parts.first) || !AllDigits(parts.second) ||
      !absl::SimpleAtoi(parts.first, &units) || units > 1'000'000'000) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", view, "\" is not an amount (digits, at most six after the point, e.g. 0.0079)"));
  }
  Micros fraction = 0;
  if (!parts.second.empty()) {
    (void)absl::SimpleAtoi(parts.second, &fraction);
    for (size_t digits = parts.second.size(); digits < 6; ++digits) fraction *= 10;
  }
  return units * kMicrosPerUnit + fraction;
}

std::string FormatAmount(Micros amount) {
  std::string text = absl::StrFormat("%d.%06d", amount / kMicrosPerUnit, amount % kMicrosPerUnit);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

absl::StatusOr<SpendSettings> ParseSpendSettings(std::string_view prices, std::string_view caps) {
  absl::StatusOr<std::map<std::string, Micros>> named_prices =
      ParseNamedAmounts(prices, "KLAXON_VERIFY_PRICES");
  if (!named_prices.ok()) return named_prices.status();
  absl::StatusOr<std::map<std::string, Micros>> daily_caps =
      ParseNamedAmounts(caps, "KLAXON_VERIFY_DAILY_SPEND");
  if (!daily_caps.ok()) return daily_caps.status();
  SpendSettings settings{.daily_caps = *std::move(daily_caps)};
  for (const auto& [name, price] : *named_prices) {
    if (name == "sms") {
      settings.prices[types::v1::CHANNEL_SMS] = price;
    } else if (name == "voice") {
      settings.prices[types::v1::CHANNEL_VOICE] = price;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("KLAXON_VERIFY_PRICES: \"", name, "\" is not a channel (sms or voice)"));
    }
  }
  if (!settings.daily_caps.empty() && settings.prices.size() < 2) {
    return absl::InvalidArgumentError(
        "KLAXON_VERIFY_DAILY_SPEND needs KLAXON_VERIFY_PRICES for both sms and voice, or a "
        "channel would cost nothing under the cap");
  }
  return settings;
}

}  // namespace klaxon::ingress::verification
