#include "services/audit/inbound/inbound_message_reader.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/phone/phone.h"
#include "nlohmann/json.hpp"

namespace klaxon::audit {
namespace {

constexpr char kRpc[] = "ListInboundMessages";

// The caller and filters a page token is bound to (page_token.h), naming this RPC.
std::string CanonicalFilters(const InboundFilter& filter) {
  return absl::StrCat(
      kRpc, "\n", filter.caller, "\n", absl::BytesToHexString(filter.sender_index.value_or("")),
      "\n", FilterTime(filter.received_from), "\n", FilterTime(filter.received_before));
}

// The opened column: {"from": "<E.164>", "body": "<text>"} (personal_data.h).
absl::StatusOr<std::pair<std::string, std::string>> ParsePersonal(const std::string& opened) {
  const nlohmann::json personal =
      nlohmann::json::parse(opened, nullptr, /*allow_exceptions=*/false);
  if (!personal.is_object() || !personal.contains("from") || !personal["from"].is_string() ||
      !personal.contains("body") || !personal["body"].is_string()) {
    return absl::DataLossError("it opened, but is not a sender and a body");
  }
  return std::pair(personal["from"].get<std::string>(), personal["body"].get<std::string>());
}

}  // namespace

InboundMessageReader::InboundMessageReader(InboundMessages& messages, PersonalData& personal_data,
                                           const crypto::BlindIndex& blind_index,
                                           const log::Logger& logger)
    : messages_(messages),
      personal_data_(personal_data),
      blind_index_(blind_index),
      logger_(logger) {}

absl::StatusOr<InboundFilter> InboundMessageReader::MakeFilter(std::string_view caller,
                                                               const ListInboundQuery& query) {
  InboundFilter filter{.caller = std::string(caller),
                       .received_from = query.received_from,
                       .received_before = query.received_before};
  if (!query.from.empty()) {
    // Validated as SendAlert validates a recipient, so the index is of the same text.
    absl::StatusOr<phone::PhoneNumber> sender = phone::ValidateE164(query.from);
    if (!sender.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("from: ", sender.status().message()));
    }
    filter.sender_index = blind_index_.Compute(sender->e164);
  }
  if (filter.received_from.has_value() && filter.received_before.has_value() &&
      *filter.received_before <= *filter.received_from) {
    return absl::InvalidArgumentError("received_before: must be after received_from");
  }
  return filter;
}

absl::StatusOr<InboundPage> InboundMessageReader::List(std::string_view caller,
                                                       const ListInboundQuery& query) {
  const absl::StatusOr<int32_t> page_size = PageSize(query.page_size);
  if (!page_size.ok()) return page_size.status();
  absl::StatusOr<InboundFilter> filter = MakeFilter(caller, query);
  if (!filter.ok()) return filter.status();
  const std::string filters = CanonicalFilters(*filter);
  std::optional<PagePosition> after;
  if (!query.page_token.empty()) {
    absl::StatusOr<PagePosition> position = DecodePageToken(query.page_token, filters, kRpc);
    if (!position.ok()) return position.status();
    after = *std::move(position);
  }
  // One row more than the page tells whether another page follows without a second query.
  absl::StatusOr<std::vector<StoredInboundMessage>> rows =
      messages_.ListInboundMessages(*filter, after, *page_size + 1);
  if (!rows.ok()) return rows.status();
  InboundPage page;
  if (rows->size() > static_cast<size_t>(*page_size)) {
    rows->resize(static_cast<size_t>(*page_size));
    page.next_page_token =
        EncodePageToken({.at = rows->back().received_at, .key = rows->back().event_key}, filters);
  }
  page.messages.reserve(rows->size());
  for (const StoredInboundMessage& stored : *rows) {
    absl::StatusOr<InboundMessageView> view = Open(stored);
    if (!view.ok()) return view.status();
    page.messages.push_back(*std::move(view));
  }
  return page;
}

absl::StatusOr<InboundMessageView> InboundMessageReader::Open(const StoredInboundMessage& stored) {
  InboundMessageView view{.message_sid = stored.message_sid, .received_at = stored.received_at};
  if (!stored.data_key.has_value()) {
    view.personal_data_shredded = true;
    return view;
  }
  absl::StatusOr<Fields> opened =
      personal_data_.Open(kAuditEventsTable, stored.event_key, *stored.data_key,
                          {{kEventPersonalColumn, stored.personal_ciphertext}});
  absl::StatusOr<std::pair<std::string, std::string>> personal =
      opened.ok() ? ParsePersonal((*opened)[kEventPersonalColumn])
                  : absl::StatusOr<std::pair<std::string, std::string>>(opened.status());
  if (!personal.ok()) {
    // The message names the event and the column or key version: never what it holds.
    logger_.Error("personal_data_unreadable",
                  {{"event_key", stored.event_key},
                   {"message_sid", stored.message_sid},
                   {"code", absl::StatusCodeToString(personal.status().code())},
                   {"error", std::string(personal.status().message())}});
    const std::string message =
        absl::StrCat("inbound message ", stored.message_sid,
                     ": its sender and body cannot be opened: ", personal.status().message());
    if (absl::IsDataLoss(personal.status())) return absl::DataLossError(message);
    return absl::InternalError(message);
  }
  view.from = std::move(personal->first);
  view.body = std::move(personal->second);
  return view;
}

}  // namespace klaxon::audit
