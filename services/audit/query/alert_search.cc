#include "services/audit/query/alert_search.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/ids/uuid.h"
#include "common/phone/phone.h"
#include "services/audit/query/alert_not_found.h"

namespace klaxon::audit {
namespace {

// The caller and filters a ListAlerts page token is bound to (page_token.h). It names no RPC:
// it predates ListInboundMessages, whose filters start with that RPC's name.
std::string CanonicalFilters(const AlertFilter& filter) {
  return absl::StrCat(filter.caller, "\n",
                      filter.status.has_value() ? static_cast<int>(*filter.status) : -1, "\n",
                      filter.channel.has_value() ? static_cast<int>(*filter.channel) : -1, "\n",
                      absl::BytesToHexString(filter.recipient_index.value_or("")), "\n",
                      FilterTime(filter.created_from), "\n", FilterTime(filter.created_before));
}

}  // namespace

double SuccessRate(const DeliveryCounts& counts) {
  const int64_t ended = counts.succeeded + counts.failed;
  if (ended == 0) return 0;
  return static_cast<double>(counts.succeeded) / static_cast<double>(ended);
}

std::string EncodePageToken(const AlertFilter& filter, const ListCursor& last) {
  return EncodePageToken(PagePosition{.at = last.created_at, .key = last.alert_id},
                         CanonicalFilters(filter));
}

absl::StatusOr<ListCursor> DecodePageToken(const AlertFilter& filter, std::string_view token) {
  absl::StatusOr<PagePosition> position = DecodePageToken(
      absl::string_view(token.data(), token.size()), CanonicalFilters(filter), "ListAlerts");
  if (!position.ok()) return position.status();
  if (!ids::IsUuid(position->key)) {
    return absl::InvalidArgumentError("page_token: is not a token ListAlerts returned (malformed)");
  }
  return ListCursor{.created_at = position->at, .alert_id = std::move(position->key)};
}

AlertSearch::AlertSearch(AlertQueries& queries, const crypto::BlindIndex& blind_index)
    : queries_(queries), blind_index_(blind_index) {}

absl::StatusOr<AlertFilter> AlertSearch::MakeFilter(std::string_view caller,
                                                    const ListAlertsQuery& query) {
  AlertFilter filter{.caller = std::string(caller)};
  if (query.status != klaxon::types::v1::ALERT_STATUS_UNSPECIFIED) {
    if (!klaxon::types::v1::AlertStatus_IsValid(query.status)) {
      return absl::InvalidArgumentError(
          absl::StrCat("status: unknown value ", static_cast<int>(query.status)));
    }
    filter.status = query.status;
  }
  if (query.channel != klaxon::types::v1::CHANNEL_UNSPECIFIED) {
    if (query.channel != klaxon::types::v1::CHANNEL_SMS &&
        query.channel != klaxon::types::v1::CHANNEL_VOICE) {
      return absl::InvalidArgumentError(absl::StrCat(
          "channel: must be CHANNEL_SMS or CHANNEL_VOICE, got ", static_cast<int>(query.channel)));
    }
    filter.channel = query.channel;
  }
  if (!query.recipient.empty()) {
    // Validated exactly as SendAlert does, so the index is of the same normalised text.
    absl::StatusOr<phone::PhoneNumber> recipient = phone::ValidateE164(query.recipient);
    if (!recipient.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("recipient: ", recipient.status().message()));
    }
    filter.recipient_index = blind_index_.Compute(recipient->e164);
  }
  filter.created_from = query.created_from;
  filter.created_before = query.created_before;
  if (filter.created_from.has_value() && filter.created_before.has_value() &&
      *filter.created_before <= *filter.created_from) {
    return absl::InvalidArgumentError("created_before: must be after created_from");
  }
  return filter;
}

absl::StatusOr<AlertPage> AlertSearch::ListAlerts(std::string_view caller,
                                                  const ListAlertsQuery& query) {
  const absl::StatusOr<int32_t> page_size = PageSize(query.page_size);
  if (!page_size.ok()) return page_size.status();
  absl::StatusOr<AlertFilter> filter = MakeFilter(caller, query);
  if (!filter.ok()) return filter.status();
  std::optional<ListCursor> after;
  if (!query.page_token.empty()) {
    absl::StatusOr<ListCursor> cursor = DecodePageToken(*filter, query.page_token);
    if (!cursor.ok()) return cursor.status();
    after = *std::move(cursor);
  }
  // One row more than the page tells whether another page follows without a second query.
  absl::StatusOr<std::vector<AlertRecord>> rows =
      queries_.ListAlerts(*filter, after, *page_size + 1);
  if (!rows.ok()) return rows.status();
  AlertPage page{.alerts = *std::move(rows)};
  if (page.alerts.size() > static_cast<size_t>(*page_size)) {
    page.alerts.resize(static_cast<size_t>(*page_size));
    const AlertRecord& last = page.alerts.back();
    page.next_page_token =
        EncodePageToken(*filter, {.created_at = last.created_at, .alert_id = last.alert_id});
  }
  return page;
}

absl::StatusOr<std::vector<AuditEventRecord>> AlertSearch::GetAuditTrail(
    std::string_view caller, std::string_view alert_id) {
  if (!ids::IsUuid(alert_id)) {
    return absl::InvalidArgumentError("alert_id: must be a UUID in canonical lowercase form");
  }
  absl::StatusOr<std::optional<std::vector<AuditEventRecord>>> trail =
      queries_.GetAuditTrail(caller, alert_id);
  if (!trail.ok()) return trail.status();
  if (!trail->has_value()) return AlertNotFound(alert_id);
  return **std::move(trail);
}

absl::StatusOr<DeliveryReportRecord> AlertSearch::GetDeliveryReport(
    std::string_view caller, std::optional<absl::Time> from, std::optional<absl::Time> before) {
  if (!from.has_value()) return absl::InvalidArgumentError("from: is required");
  if (!before.has_value()) return absl::InvalidArgumentError("before: is required");
  if (*before <= *from) return absl::InvalidArgumentError("before: must be after from");
  if (*before - *from > kMaxReportSpan) {
    return absl::InvalidArgumentError("before: must be at most 366 days after from");
  }
  absl::StatusOr<DeliveryCountsByGroup> counts = queries_.CountDeliveries(caller, *from, *before);
  if (!counts.ok()) return counts.status();
  return DeliveryReportRecord{.from = *from, .before = *before, .counts = *std::move(counts)};
}

}  // namespace klaxon::audit
