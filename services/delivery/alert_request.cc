#include "services/delivery/alert_request.h"

#include "absl/strings/str_cat.h"
#include "common/prototime/prototime.h"

namespace klaxon::delivery {

absl::Time DeadlineOf(const events::v1::AlertRequested& request) {
  return request.has_deadline() ? prototime::FromProto(request.deadline()) : absl::InfiniteFuture();
}

std::string AttemptName(const events::v1::AlertRequested& request) {
  return absl::StrCat("attempt ", request.header().attempt(), " of alert ",
                      request.header().alert_id());
}

}  // namespace klaxon::delivery
