#include "services/delivery/limit_settings.h"

#include <utility>

namespace klaxon::delivery {

LimitSettings ReadLimitSettings(config::Reader& reader, std::string channel, std::string sender) {
  LimitSettings settings{.send = {.channel = std::move(channel), .sender = std::move(sender)}};
  if (absl::StatusOr<limits::Rate> rate =
          limits::ParseRate(reader.Optional("KLAXON_SENDER_RATE", "1/1s"));
      rate.ok()) {
    settings.send.sender_rate = *rate;
  } else {
    reader.AddError("KLAXON_SENDER_RATE", std::string(rate.status().message()));
  }
  // An empty variable reads as unset, so "none" is how to turn recipient limits off.
  if (const std::string windows_text = reader.Optional("KLAXON_RECIPIENT_LIMITS", "5/15m,11/1h");
      windows_text != "none") {
    absl::StatusOr<std::vector<limits::Rate>> windows = limits::ParseRateList(windows_text);
    if (windows.ok()) {
      settings.send.recipient_windows = *std::move(windows);
    } else {
      reader.AddError("KLAXON_RECIPIENT_LIMITS", std::string(windows.status().message()));
    }
  }
  if (absl::StatusOr<limits::PriorityExemption> exempt = limits::PriorityExemption::Parse(
          reader.Optional("KLAXON_RECIPIENT_LIMITS_EXEMPT", "critical"));
      exempt.ok()) {
    settings.send.recipient_exempt = *exempt;
  } else {
    reader.AddError("KLAXON_RECIPIENT_LIMITS_EXEMPT", std::string(exempt.status().message()));
  }
  settings.send.max_wait = reader.Duration("KLAXON_PACING_MAX_WAIT", absl::Seconds(2),
                                           absl::ZeroDuration(), absl::Seconds(30));
  settings.max_in_flight = reader.Int("KLAXON_TWILIO_MAX_IN_FLIGHT", 100, 1, 100'000);
  return settings;
}

}  // namespace klaxon::delivery
