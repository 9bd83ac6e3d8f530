#pragma once
// The order an alert's status moves in (ADR 0007), shared by the audit projection that enforces
// it and by every client that waits for an alert to end:
//   QUEUED, WAITING (1) < SENT (2) < DELIVERED, UNDELIVERED, FAILED, SUPPRESSED, CANCELLED (3)
//   < ACKNOWLEDGED (4); ALERT_STATUS_UNSPECIFIED and unknown values are 0.
// The rank-3 finals share a rank, so the first final to arrive wins and a later, different one
// cannot overwrite it; an acknowledgement outranks them all (it proves delivery).

#include <cstdint>

#include "klaxon/types/v1/types.pb.h"

namespace klaxon::alert_status {

int16_t Rank(types::v1::AlertStatus status);

// Ranks 3 and 4: the alert will send nothing more (a DELIVERED call may still be acknowledged).
bool IsFinal(types::v1::AlertStatus status);

}  // namespace klaxon::alert_status
