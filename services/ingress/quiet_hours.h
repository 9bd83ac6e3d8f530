#pragma once
// Quiet hours (docs/adr/0026): per caller, a daily window in the recipient's local time during
// which alerts below an exempt priority are not sent; they wait for the window's end, WAITING
// with the reason, and their time to live counts from then. The recipient's zone is the
// request's time_zone, else the zone libphonenumber maps the number to, else the caller's
// default. Pure: the intake asks it with the time an alert may first be sent.

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/limits/priority_exemption.h"
#include "klaxon/types/v1/types.pb.h"

namespace klaxon::ingress {

// One caller's quiet hours: from `starts` to `ends` into each local day; `ends` before `starts`
// spans midnight ("22:00-07:00").
struct QuietWindow {
  absl::Duration starts;
  absl::Duration ends;
  absl::TimeZone default_zone;  // for a recipient whose zone is known no other way
};

// Why and until when an alert waits.
struct QuietHold {
  absl::Time until;  // the window's end, when the alert may be sent
  std::string why;   // "22:00-07:00 in Europe/Berlin"
};

class QuietHours {
 public:
  QuietHours() = default;  // no caller has quiet hours

  // KLAXON_QUIET_HOURS: comma-separated "caller=HH:MM[:SS]-HH:MM[:SS][@Zone]" (zone: UTC when
  // left out), "*" for every caller not listed; empty: none. KLAXON_QUIET_HOURS_EXEMPT: the
  // lowest priority that is never held ("low", "normal", "high", "critical", or "none").
  // kInvalidArgument naming the entry and what is wrong with it.
  static absl::StatusOr<QuietHours> Parse(std::string_view windows, std::string_view exempt);

  // When an alert of `caller` to `recipient` (E.164) that may be sent from `from` may be sent
  // after all: nullopt when nothing holds it (the caller has no quiet hours, its priority is
  // exempt, or `from` is outside the window). `zone` is the request's time zone, if it named one.
  std::optional<QuietHold> Hold(std::string_view caller, std::string_view recipient,
                                const std::optional<absl::TimeZone>& zone,
                                types::v1::Priority priority, absl::Time from) const;

 private:
  std::map<std::string, QuietWindow, std::less<>> windows_;  // by caller, "*" for the rest
  limits::PriorityExemption exempt_ = limits::PriorityExemption::From(types::v1::PRIORITY_HIGH);
};

}  // namespace klaxon::ingress
