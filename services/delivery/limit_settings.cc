#include "services/delivery/limit_settings.h"

#include <optional>
#include <utility>
#include <vector>

#include "common/channels/channel_switches.h"

namespace klaxon::delivery {

LimitSettings ReadLimitSettings(config::Reader& reader, types::v1::Channel channel) {
  LimitSettings settings{.send = {.channel = std::string(channels::ChannelName(channel))}};
  std::optional<limits::Rate> pace;
  if (const std::string pace_text = reader.Optional("KLAXON_SENDER_RATE", ""); !pace_text.empty()) {
    if (absl::StatusOr<limits::Rate> rate = limits::ParseRate(pace_text); rate.ok()) {
      pace = *rate;
    } else {
      reader.AddError("KLAXON_SENDER_RATE", std::string(rate.status().message()));
    }
  }
  // Its one number is a sender like any other now; a deployment still setting it would
  // otherwise send from whatever the senders' variable says without a word.
  if (!reader.Optional("KLAXON_TWILIO_FROM", "").empty()) {
    reader.AddError("KLAXON_TWILIO_FROM",
                    "is replaced by KLAXON_SMS_SENDERS and KLAXON_VOICE_SENDERS (each a list: "
                    "the number, or several)");
  }
  if (const std::string senders_text = reader.Required(SendersVariable(channel));
      !senders_text.empty()) {
    absl::StatusOr<std::vector<PacedSender>> senders = ParseSenders(senders_text, channel, pace);
    if (senders.ok()) {
      settings.send.senders = *std::move(senders);
    } else {
      reader.AddError(senders.status());
    }
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
  settings.in_flight_urgent_reserve =
      reader.Int("KLAXON_TWILIO_IN_FLIGHT_URGENT_RESERVE", settings.max_in_flight / 10, 0,
                 settings.max_in_flight - 1);
  return settings;
}

}  // namespace klaxon::delivery
