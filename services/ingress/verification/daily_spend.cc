#include "services/ingress/verification/daily_spend.h"

#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "common/channels/channel_switches.h"
#include "common/config/config.h"
#include "common/twilio/price.h"

namespace klaxon::ingress::verification {
namespace {

// "name=amount,..." by name; kInvalidArgument naming `variable` and the entry at fault.
absl::StatusOr<std::map<std::string, Micros>> ParseNamedAmounts(std::string_view text,
                                                                std::string_view variable) {
  const config::NamedList list{.variable = variable,
                               .form = "<name>=<amount>, e.g. sms=0.0079 or billing=25"};
  absl::StatusOr<std::vector<config::NamedValue>> entries = config::SplitNamedValues(text, list);
  if (!entries.ok()) return entries.status();
  std::map<std::string, Micros> amounts;
  for (const config::NamedValue& entry : *entries) {
    absl::StatusOr<Micros> amount = twilio::ParseMicros(entry.value);
    if (!amount.ok() || *amount < 0) return list.NotOfForm(entry.entry);
    amounts.emplace(entry.name, *amount);
  }
  return amounts;
}

}  // namespace

absl::StatusOr<SpendSettings> ParseSpendSettings(std::string_view prices, std::string_view caps) {
  absl::StatusOr<std::map<std::string, Micros>> named_prices =
      ParseNamedAmounts(prices, "KLAXON_VERIFY_PRICES");
  if (!named_prices.ok()) return named_prices.status();
  absl::StatusOr<std::map<std::string, Micros>> daily_caps =
      ParseNamedAmounts(caps, "KLAXON_VERIFY_DAILY_SPEND");
  if (!daily_caps.ok()) return daily_caps.status();
  SpendSettings settings{.daily_caps = *std::move(daily_caps)};
  for (const auto& [name, price] : *named_prices) {
    absl::StatusOr<types::v1::Channel> channel = channels::ParseChannelName(name);
    if (!channel.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("KLAXON_VERIFY_PRICES: \"", name, "\" is not a channel (sms or voice)"));
    }
    settings.prices[*channel] = price;
  }
  const bool every_channel_priced = absl::c_all_of(
      channels::kSwitchedChannels,
      [&settings](types::v1::Channel channel) { return settings.prices.contains(channel); });
  if (!settings.daily_caps.empty() && !every_channel_priced) {
    return absl::InvalidArgumentError(
        "KLAXON_VERIFY_DAILY_SPEND needs KLAXON_VERIFY_PRICES for both sms and voice, or a "
        "channel would cost nothing under the cap");
  }
  return settings;
}

}  // namespace klaxon::ingress::verification
