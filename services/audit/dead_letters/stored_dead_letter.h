#pragma once
// The plaintext audit seals into dead_letters.request_ciphertext (ADR 0008, ADR 0013): the
// dead-lettered request with its transit seal removed, followed by its recipient and text
// (klaxon.audit.v1.DeadLetterPersonal), so a stored dead letter depends on audit's keyring alone,
// never on a transit key version that may be removed while the row lives.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/transit/transit_cipher.h"
#include "klaxon/events/v1/events.pb.h"

namespace klaxon::audit {

struct OpenedDeadLetterRequest {
  events::v1::AlertRequested request;  // without `personal`
  transit::AlertPersonalData personal;
};

std::string StoredDeadLetterRequest(const events::v1::AlertRequested& request,
                                    const transit::AlertPersonalData& personal);

// kDataLoss when `plaintext` is not what StoredDeadLetterRequest wrote.
absl::StatusOr<OpenedDeadLetterRequest> ParseStoredDeadLetterRequest(std::string_view plaintext);

}  // namespace klaxon::audit
