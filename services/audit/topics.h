#pragma once
// The Kafka topics audit consumes, with the deployment's prefix applied (tests use their own
// prefix so runs never share a topic).

#include <string>
#include <string_view>
#include <vector>

#include "klaxon/types/v1/types.pb.h"

namespace klaxon::audit {

struct Topics {
  std::string sms_requests{};
  std::string voice_requests{};
  std::string sms_urgent_requests{};    // critical alerts' (docs/adr/0027)
  std::string voice_urgent_requests{};  // critical alerts'
  std::string delivery_events{};
  std::string twilio_events{};

  static Topics WithPrefix(std::string_view prefix);

  // Where an alert of `channel` and `priority` is requested (kafka::Urgent decides), prefixed.
  const std::string& Request(types::v1::Channel channel, types::v1::Priority priority) const;
  // The topics an AlertRequested is published to: where a new alert shows up first.
  std::vector<std::string> Requests() const {
    return {sms_requests, voice_requests, sms_urgent_requests, voice_urgent_requests};
  }
  bool IsRequest(std::string_view topic) const {
    return topic == sms_requests || topic == voice_requests || topic == sms_urgent_requests ||
           topic == voice_urgent_requests;
  }
  std::vector<std::string> All() const {
    std::vector<std::string> all = Requests();
    all.push_back(delivery_events);
    all.push_back(twilio_events);
    return all;
  }
};

}  // namespace klaxon::audit
