#pragma once
// The word for each result of a verification check (klaxon.verify.v1.VerificationStatus), one
// spelling shared by ingress's metric labels and logs and by klaxonctl's output, so a dashboard,
// a log search and a script all match the same "max_attempts".

#include <string_view>

#include "klaxon/verify/v1/verify.pb.h"

namespace klaxon::verification_status {

// "approved", "pending", "expired", "max_attempts" or "not_found"; "unspecified" for anything
// else.
std::string_view Word(verify::v1::VerificationStatus status);

}  // namespace klaxon::verification_status
