#pragma once
// Port: hands one alert attempt to the outside world (Twilio's Messages or Calls API) and says
// what became of it, in the terms the dispatcher decides on.

#include <string>

#include "klaxon/events/v1/events.pb.h"

namespace klaxon::delivery {

struct SendResult {
  enum class Kind {
    kAccepted,   // the provider took it; sid is set
    kRejected,   // refused for good; error_code and reason say why; resending cannot help
    kRetryable,  // not processed (throttled, 5xx, not sent at all); safe to send again later
    kUnknown,    // the request left but no answer came back; it may or may not have been taken
  };
  Kind kind = Kind::kRejected;
  std::string sid;
  std::string provider_status;  // the provider's own status word, e.g. "queued"
  int error_code = 0;
  std::string reason;  // readable, never holds personal data
};

class Sender {
 public:
  virtual ~Sender() = default;
  virtual SendResult Send(const events::v1::AlertRequested& request) = 0;
};

}  // namespace klaxon::delivery
