#include "common/alert_status/alert_status.h"

namespace klaxon::alert_status {

int16_t Rank(types::v1::AlertStatus status) {
  switch (status) {
    case types::v1::ALERT_STATUS_QUEUED:
    case types::v1::ALERT_STATUS_WAITING:
      return 1;
    case types::v1::ALERT_STATUS_SENT:
      return 2;
    case types::v1::ALERT_STATUS_DELIVERED:
    case types::v1::ALERT_STATUS_UNDELIVERED:
    case types::v1::ALERT_STATUS_FAILED:
    case types::v1::ALERT_STATUS_SUPPRESSED:
    case types::v1::ALERT_STATUS_CANCELLED:
      return 3;
    case types::v1::ALERT_STATUS_ACKNOWLEDGED:
      return 4;
    default:
      return 0;
  }
}

bool IsFinal(types::v1::AlertStatus status) { return Rank(status) >= 3; }

}  // namespace klaxon::alert_status
