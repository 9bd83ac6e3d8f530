#include "common/verification_status/verification_status.h"

namespace klaxon::verification_status {

std::string_view Word(verify::v1::VerificationStatus status) {
  switch (status) {
    case verify::v1::VERIFICATION_STATUS_APPROVED:
      return "approved";
    case verify::v1::VERIFICATION_STATUS_PENDING:
      return "pending";
    case verify::v1::VERIFICATION_STATUS_EXPIRED:
      return "expired";
    case verify::v1::VERIFICATION_STATUS_MAX_ATTEMPTS:
      return "max_attempts";
    case verify::v1::VERIFICATION_STATUS_NOT_FOUND:
      return "not_found";
    default:
      return "unspecified";
  }
}

}  // namespace klaxon::verification_status
