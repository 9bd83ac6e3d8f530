#pragma once
// klaxon-admin check --online: what only Twilio can say of a configuration the offline check
// passed (issue 13, preflight). For the sms-worker's and the voice-worker's configuration, each
// Twilio account's credentials are tried (GET the account: it must answer, and be active) and
// each sender is looked up in its account: a phone number in IncomingPhoneNumbers, a short code
// in SMS/ShortCodes, a Messaging Service on the Messaging API
// (KLAXON_TWILIO_MESSAGING_BASE_URL, https://messaging.twilio.com by default). Twilio has no
// lookup for an alphanumeric sender ID: it is reported as not checked. Nothing is sent.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/config/config.h"

namespace klaxon::admin {

struct OnlineFinding {
  std::string subject;  // "account main (AC...)", "sender +14155550100 of account main"
  absl::Status status;  // OK, or what Twilio said is wrong
  bool checked = true;  // false: Twilio cannot be asked (an alphanumeric sender ID)
};

// Each account and sender of the workers' configuration in `environment`, once. A worker whose
// configuration does not load is one finding naming it. Only the workers among `services` are
// checked (none named: both); ingress and audit call no Twilio REST API, so naming only them
// checks nothing. A name that is no service is ignored here: CheckConfiguration reports it, and
// the online check runs only once that passed.
std::vector<OnlineFinding> CheckOnline(const config::Environment& environment,
                                       const std::vector<std::string>& services = {});

}  // namespace klaxon::admin
