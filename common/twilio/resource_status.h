#pragma once
// Twilio's status words for a message or a call (../shared/twilio/TWILIO.md), read where they
// enter Klaxon: ingress's status callbacks and the workers' status checks. One list of the
// statuses Twilio never changes again, so both sides agree on when a status check is over.

#include <string_view>

namespace klaxon::twilio {

enum class Resource { kMessage, kCall };

// Final: messages delivered, undelivered, failed, read or canceled; calls completed, busy,
// no-answer, failed or canceled. A word Twilio may add later is not final, so a status check
// keeps reading until it sees one it knows.
bool IsFinalStatus(Resource resource, std::string_view status);

}  // namespace klaxon::twilio
