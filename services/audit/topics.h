#pragma once
// The Kafka topics audit consumes, with the deployment's prefix applied (tests use their own
// prefix so runs never share a topic).

#include <string>
#include <string_view>
#include <vector>

namespace klaxon::audit {

struct Topics {
  std::string sms_requests{};
  std::string voice_requests{};
  std::string delivery_events{};
  std::string twilio_events{};

  static Topics WithPrefix(std::string_view prefix);

  // The topics an AlertRequested is published to: where a new alert shows up first.
  std::vector<std::string> Requests() const { return {sms_requests, voice_requests}; }
  std::vector<std::string> All() const {
    return {sms_requests, voice_requests, delivery_events, twilio_events};
  }
};

}  // namespace klaxon::audit
