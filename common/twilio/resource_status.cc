#include "common/twilio/resource_status.h"

#include <algorithm>
#include <array>

namespace klaxon::twilio {

bool IsFinalStatus(Resource resource, std::string_view status) {
  static constexpr std::array<std::string_view, 5> kFinalMessage = {"delivered", "undelivered",
                                                                    "failed", "read", "canceled"};
  static constexpr std::array<std::string_view, 5> kFinalCall = {"completed", "busy", "no-answer",
                                                                 "failed", "canceled"};
  switch (resource) {
    case Resource::kMessage:
      return std::ranges::find(kFinalMessage, status) != kFinalMessage.end();
    case Resource::kCall:
      return std::ranges::find(kFinalCall, status) != kFinalCall.end();
  }
  return false;
}

}  // namespace klaxon::twilio
