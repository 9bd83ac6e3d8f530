#pragma once
// The logic of ListAlerts, GetAuditTrail and GetDeliveryReport (docs/adr/0008): validates what
// the caller asked for, turns a recipient into its blind index, pages by an opaque keyset token
// and computes the report's rates. The SQL is AlertQueries'; the gRPC translation is
// AlertQueryService's.
//
// A page token (page_token.h) holds the page's last alert's created_at and id, bound to the
// caller and filters it was issued for.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/crypto/blind_index.h"
#include "services/audit/alert.h"
#include "services/audit/query/alert_queries.h"
#include "services/audit/query/page_token.h"

namespace klaxon::audit {

inline constexpr absl::Duration kMaxReportSpan = absl::Hours(366 * 24);

// ListAlertsRequest in domain terms. UNSPECIFIED status or channel and an empty recipient do not
// filter.
struct ListAlertsQuery {
  AlertStatus status = klaxon::types::v1::ALERT_STATUS_UNSPECIFIED;
  Channel channel = klaxon::types::v1::CHANNEL_UNSPECIFIED;
  std::string recipient{};  // E.164
  std::optional<absl::Time> created_from{};
  std::optional<absl::Time> created_before{};
  int32_t page_size = 0;
  std::string page_token{};
};

struct AlertPage {
  std::vector<AlertRecord> alerts{};
  std::string next_page_token{};  // empty on the last page
};

struct DeliveryReportRecord {
  absl::Time from{};
  absl::Time before{};
  DeliveryCountsByGroup counts{};
};

// succeeded / (succeeded + failed); 0 when both are 0.
double SuccessRate(const DeliveryCounts& counts);

// The page token that continues after `last` for `filter` (exposed for tests).
std::string EncodePageToken(const AlertFilter& filter, const ListCursor& last);
// kInvalidArgument naming page_token when the token is malformed or was issued for other filters.
absl::StatusOr<ListCursor> DecodePageToken(const AlertFilter& filter, std::string_view token);

class AlertSearch {
 public:
  // Borrowed; they must outlive the search. Thread-safe if the port is.
  AlertSearch(AlertQueries& queries, const crypto::BlindIndex& blind_index);

  //   kInvalidArgument  a filter, page_size or page_token is invalid (the message names it)
  //   kUnavailable      the store cannot be reached
  absl::StatusOr<AlertPage> ListAlerts(std::string_view caller, const ListAlertsQuery& query);

  //   kInvalidArgument  alert_id is not a canonical UUID
  //   kNotFound         no such alert for this caller
  absl::StatusOr<std::vector<AuditEventRecord>> GetAuditTrail(std::string_view caller,
                                                              std::string_view alert_id);

  //   kInvalidArgument  from or before missing, before not after from, or more than 366 days on
  absl::StatusOr<DeliveryReportRecord> GetDeliveryReport(std::string_view caller,
                                                         std::optional<absl::Time> from,
                                                         std::optional<absl::Time> before);

 private:
  absl::StatusOr<AlertFilter> MakeFilter(std::string_view caller, const ListAlertsQuery& query);

  AlertQueries& queries_;
  const crypto::BlindIndex& blind_index_;
};

}  // namespace klaxon::audit
