#pragma once
// A recipient's consent as audit records it: the latest opt-out (STOP...) or opt-in (START...)
// Twilio reported for one number. The number itself never enters this type: it is already
// reduced to its keyed token, country calling code and last four digits.

#include <string>
#include <tuple>

#include "absl/time/time.h"

namespace klaxon::audit {

struct ConsentChange {
  std::string recipient_token{};  // log::PhoneRedactor::Token of the number
  std::string country_code{};     // "1"
  std::string last4{};            // "0100"
  bool opted_out = false;
  std::string keyword{};  // as ingress upper-cased it: STOP, START, ...
  absl::Time changed_at{};

  friend bool operator==(const ConsentChange&, const ConsentChange&) = default;
};

// Whether `change` replaces `stored` as the recipient's record: a later change does, an earlier
// one never. Two changes at the same instant are ordered by state (an opt-out wins, the safe
// reading) and then keyword, so the record never depends on the order they were consumed in and
// a duplicate replaces nothing. PostgresAlertStore's upsert guard is the same comparison.
inline bool Supersedes(const ConsentChange& change, const ConsentChange& stored) {
  return std::tie(stored.changed_at, stored.opted_out, stored.keyword) <
         std::tie(change.changed_at, change.opted_out, change.keyword);
}

}  // namespace klaxon::audit
