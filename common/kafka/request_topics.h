#pragma once
// Which alerts travel on their channel's urgent request topic (kSmsUrgentRequests,
// kVoiceUrgentRequests) rather than the normal one, and take the urgent lane of each sender's
// pace (docs/adr/0027): the one rule ingress, the voice worker's SMS fallback, audit's replays
// and the send limiters share.

#include "klaxon/types/v1/types.pb.h"

namespace klaxon::kafka {

inline bool Urgent(types::v1::Priority priority) {
  return priority == types::v1::PRIORITY_CRITICAL;
}

}  // namespace klaxon::kafka
