#include "services/audit/dead_letters/dead_letter_queue.h"

#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/ids/uuid.h"
#include "common/prototime/prototime.h"
#include "common/sms_acks/ack_reply.h"
#include "nlohmann/json.hpp"

namespace klaxon::audit {
namespace {

// SendAlert's default, for a request that carries no deadline.
constexpr absl::Duration kDefaultTimeToLive = absl::Hours(1);

using prototime::FromProto;

// A replay's times are whole microseconds, as Postgres keeps them.
void ToProto(absl::Time time, google::protobuf::Timestamp& out) {
  prototime::SetTimestamp(absl::FromUnixMicros(absl::ToUnixMicros(time)), &out);
}

// The requester, the RPC and every filter a page token is bound to (page_token.h): a token is
// refused with other filters, by another requester or by the other RPC, instead of skipping rows.
std::string CanonicalFilters(absl::string_view rpc, const Requester& requester,
                             const DeadLetterSelection& selection) {
  const DeadLetterFilter& filter = selection.filter;
  return absl::StrCat(rpc, "\n", requester.caller, "\n", selection.all_callers ? 1 : 0, "\n",
                      selection.caller, "\n", selection.include_replayed ? 1 : 0, "\n",
                      absl::BytesToHexString(filter.cause), "\n", filter.twilio_error_code, "\n",
                      FilterTime(filter.from), "\n", FilterTime(filter.before));
}

absl::Status CheckAlertId(absl::string_view alert_id) {
  if (ids::IsUuid(std::string_view(alert_id.data(), alert_id.size()))) return absl::OkStatus();
  return absl::InvalidArgumentError("alert_id: must be a canonical UUID");
}

absl::Status NotFound(absl::string_view alert_id) {
  return absl::NotFoundError(absl::StrCat("no dead letter for alert ", alert_id));
}

// An optional filter time in a log line: RFC 3339, or null when unset.
nlohmann::json LogTime(const std::optional<absl::Time>& time) {
  if (!time.has_value()) return nullptr;
  return absl::FormatTime(absl::RFC3339_full, *time, absl::UTCTimeZone());
}

// Whether a listing reaches beyond the requester's own dead letters (an operator's).
bool ListsOtherCallers(const Requester& requester, const DeadLetterSelection& selection) {
  return selection.all_callers && selection.caller != requester.caller;
}

absl::Status OperatorsOnly(absl::string_view what) {
  return absl::PermissionDeniedError(
      absl::StrCat(what, " needs the operator role (KLAXON_OPERATOR_CALLERS)"));
}

}  // namespace

events::v1::AlertRequested ReplayRequest(const events::v1::AlertRequested& request,
                                         absl::string_view new_alert_id, absl::Time accepted_at) {
  // A scheduled alert's time to live counts from its send_at; the replay is sent at once.
  const google::protobuf::Timestamp& sendable_from =
      request.has_send_at() ? request.send_at() : request.accepted_at();
  const absl::Duration time_to_live = request.has_deadline() && request.has_accepted_at()
                                          ? FromProto(request.deadline()) - FromProto(sendable_from)
                                          : kDefaultTimeToLive;
  events::v1::AlertRequested replay;
  events::v1::EventHeader& header = *replay.mutable_header();
  header.set_alert_id(std::string(new_alert_id));
  header.set_caller(request.header().caller());
  header.set_channel(request.header().channel());
  header.set_attempt(1);
  ToProto(accepted_at, *header.mutable_occurred_at());
  replay.set_idempotency_key(absl::StrCat("replay:", request.header().alert_id()));
  *replay.mutable_metadata() = request.metadata();
  if (request.has_voice()) *replay.mutable_voice() = request.voice();
  // A critical page replayed is still critical (its topic, its share of the pace, its
  // exemptions), and its status changes still go where the caller asked.
  replay.set_priority(request.priority());
  replay.set_callback_url(request.callback_url());
  replay.set_template_name(request.template_name());
  replay.set_template_locale(request.template_locale());
  replay.set_template_version(request.template_version());
  ToProto(accepted_at, *replay.mutable_accepted_at());
  ToProto(accepted_at + time_to_live, *replay.mutable_deadline());
  return replay;
}

DeadLetterQueue::DeadLetterQueue(DeadLetterQueueOptions options, DeadLetterStore& store,
                                 PersonalData& personal_data, messaging::Publisher& publisher,
                                 DeadLetterMetrics& metrics, timing::Clock& clock,
                                 ids::IdGenerator& alert_ids, const log::Logger& logger,
                                 transit::TransitCipher& transit)
    : options_(std::move(options)),
      store_(store),
      personal_data_(personal_data),
      publisher_(publisher),
      metrics_(metrics),
      clock_(clock),
      alert_ids_(alert_ids),
      logger_(logger),
      transit_(transit) {}

absl::StatusOr<DeadLetterPage> DeadLetterQueue::Page(absl::string_view rpc,
                                                     const Requester& requester,
                                                     const DeadLetterSelection& selection) {
  const absl::StatusOr<int32_t> limit = PageSize(selection.page_size);
  if (!limit.ok()) return limit.status();
  if (selection.all_callers && !requester.is_operator) {
    return OperatorsOnly("every caller's dead letters");
  }
  DeadLetterQuery query{.caller = requester.caller,
                        .include_replayed = selection.include_replayed,
                        .filter = selection.filter,
                        .limit = *limit + 1};
  if (selection.all_callers) {
    query.all_callers = selection.caller.empty();
    query.caller = selection.caller;
  }
  const std::string filters = CanonicalFilters(rpc, requester, selection);
  if (!selection.page_token.empty()) {
    absl::StatusOr<PagePosition> after = DecodePageToken(selection.page_token, filters, rpc);
    if (!after.ok()) return after.status();
    if (!ids::IsUuid(after->key)) {
      return absl::InvalidArgumentError(absl::StrCat("page_token: is not one ", rpc, " returned"));
    }
    query.after = DeadLetterCursor{.dead_lettered_at = after->at, .alert_id = after->key};
  }
  absl::StatusOr<std::vector<DeadLetterSummary>> rows = store_.List(query);
  if (!rows.ok()) return rows.status();
  DeadLetterPage page{.dead_letters = *std::move(rows)};
  if (page.dead_letters.size() > static_cast<size_t>(*limit)) {
    page.dead_letters.resize(static_cast<size_t>(*limit));
    const DeadLetterSummary& last = page.dead_letters.back();
    page.next_page_token =
        EncodePageToken({.at = last.dead_lettered_at, .key = last.alert_id}, filters);
  }
  return page;
}

absl::StatusOr<DeadLetterPage> DeadLetterQueue::List(const Requester& requester,
                                                     const DeadLetterSelection& selection) {
  absl::StatusOr<DeadLetterPage> page = Page("ListDeadLetters", requester, selection);
  if (page.ok() && ListsOtherCallers(requester, selection)) {
    LogListing(requester, selection, page->dead_letters.size());
  }
  return page;
}

void DeadLetterQueue::LogListing(const Requester& requester, const DeadLetterSelection& selection,
                                 size_t listed) {
  // An operator reading other callers' dead letters is recorded (ARCHITECTURE.md), as opening
  // one is: who, and which selection. A summary holds no recipient or text, and neither does this.
  const DeadLetterFilter& filter = selection.filter;
  logger_.Info("dead_letters_listed", {{"listed_by", requester.caller},
                                       {"caller", selection.caller},  // "" every caller
                                       {"include_replayed", selection.include_replayed},
                                       {"cause", filter.cause},
                                       {"twilio_error_code", filter.twilio_error_code},
                                       {"dead_lettered_from", LogTime(filter.from)},
                                       {"dead_lettered_before", LogTime(filter.before)},
                                       {"continued", !selection.page_token.empty()},
                                       {"dead_letters", listed}});
}

absl::StatusOr<std::string> DeadLetterQueue::Owner(const Requester& requester,
                                                   absl::string_view alert_id) {
  if (absl::Status valid = CheckAlertId(alert_id); !valid.ok()) return valid;
  if (!requester.is_operator) return requester.caller;
  absl::StatusOr<std::optional<std::string>> owner = store_.FindOwner(alert_id);
  if (!owner.ok()) return owner.status();
  if (!owner->has_value()) return NotFound(alert_id);
  return **std::move(owner);
}

absl::StatusOr<StoredDeadLetter> DeadLetterQueue::Find(const Requester& requester,
                                                       absl::string_view alert_id) {
  absl::StatusOr<std::string> owner = Owner(requester, alert_id);
  if (!owner.ok()) return owner.status();
  absl::StatusOr<std::optional<StoredDeadLetter>> stored = store_.Get(*owner, alert_id);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return NotFound(alert_id);
  return **std::move(stored);
}

absl::StatusOr<OpenedDeadLetterRequest> DeadLetterQueue::OpenRequest(
    const StoredDeadLetter& stored) {
  if (!stored.wrapped_key.has_value()) {
    return absl::FailedPreconditionError(
        "the dead letter's request was destroyed by retention (personal data shredded)");
  }
  absl::StatusOr<Fields> opened =
      personal_data_.Open(kDeadLettersTable, stored.summary.alert_id, *stored.wrapped_key,
                          {{kRequestColumn, stored.request_ciphertext}});
  if (!opened.ok()) return opened.status();
  absl::StatusOr<OpenedDeadLetterRequest> request =
      ParseStoredDeadLetterRequest(opened->at(kRequestColumn));
  if (!request.ok()) {
    return absl::DataLossError(absl::StrCat("the sealed request of dead letter ",
                                            stored.summary.alert_id, " is not an AlertRequested"));
  }
  return request;
}

absl::StatusOr<DeadLetterDetail> DeadLetterQueue::Get(const Requester& requester,
                                                      absl::string_view alert_id) {
  absl::StatusOr<StoredDeadLetter> stored = Find(requester, alert_id);
  if (!stored.ok()) return stored.status();
  DeadLetterDetail detail{.summary = stored->summary};
  if (!stored->wrapped_key.has_value()) {
    detail.shredded = true;
    return detail;
  }
  absl::StatusOr<OpenedDeadLetterRequest> request = OpenRequest(*stored);
  if (!request.ok()) return request.status();
  // An operator reading another caller's recipient and text is recorded (ARCHITECTURE.md), as a
  // replay is in the dead letter's row.
  if (stored->summary.caller != requester.caller) {
    logger_.Info("dead_letter_viewed", {{"alert_id", std::string(alert_id)},
                                        {"caller", stored->summary.caller},
                                        {"viewed_by", requester.caller}});
  }
  detail.recipient = std::move(request->personal.recipient);
  detail.text = std::move(request->personal.text);
  return detail;
}

absl::StatusOr<ReplayResult> DeadLetterQueue::Replay(const Requester& requester,
                                                     absl::string_view alert_id) {
  absl::StatusOr<std::string> owner = Owner(requester, alert_id);
  if (!owner.ok()) {
    metrics_.Replay(absl::AsciiStrToLower(absl::StatusCodeToString(owner.status().code())));
    return owner.status();
  }
  return ReplayOwned(*owner, alert_id, requester.caller);
}

absl::StatusOr<BulkReplayPage> DeadLetterQueue::ReplayMatching(const Requester& requester,
                                                               DeadLetterSelection selection) {
  if (!requester.is_operator) return OperatorsOnly("a bulk replay");
  const DeadLetterFilter& filter = selection.filter;
  if (filter.cause.empty() && !(filter.from.has_value() && filter.before.has_value())) {
    return absl::InvalidArgumentError(
        "filter: a bulk replay needs a cause or a whole time range (from and before)");
  }
  if (filter.from.has_value() && filter.before.has_value() && *filter.before <= *filter.from) {
    return absl::InvalidArgumentError("filter: dead_lettered_before must be after the start");
  }
  selection.all_callers = true;
  selection.include_replayed = false;
  absl::StatusOr<DeadLetterPage> page = Page("ReplayDeadLetters", requester, selection);
  if (!page.ok()) return page.status();
  BulkReplayPage done{.next_page_token = page->next_page_token};
  for (const DeadLetterSummary& summary : page->dead_letters) {
    done.replayed.push_back(
        {.dead_letter_id = summary.alert_id,
         .caller = summary.caller,
         .result = ReplayOwned(summary.caller, summary.alert_id, requester.caller)});
  }
  return done;
}

absl::StatusOr<ReplayResult> DeadLetterQueue::ReplayOwned(absl::string_view caller,
                                                          absl::string_view alert_id,
                                                          absl::string_view replayed_by) {
  absl::StatusOr<ReplayResult> result = [&]() -> absl::StatusOr<ReplayResult> {
    absl::StatusOr<std::optional<StoredDeadLetter>> found = store_.Get(caller, alert_id);
    if (!found.ok()) return found.status();
    if (!found->has_value()) return NotFound(alert_id);
    const StoredDeadLetter& stored = **found;
    // Opened before the claim: a request that cannot be sent is never recorded as replayed.
    absl::StatusOr<OpenedDeadLetterRequest> request = OpenRequest(stored);
    if (!request.ok()) return request.status();
    ReplayClaim claim;
    if (stored.summary.replayed_as.has_value()) {
      claim = {.replayed_as = *stored.summary.replayed_as,
               .replayed_at = stored.summary.replayed_at.value_or(absl::InfinitePast())};
    } else {
      absl::StatusOr<ReplayClaim> claimed =
          store_.ClaimReplay(caller, alert_id, alert_ids_.Next(), clock_.Now(), replayed_by);
      if (!claimed.ok()) return claimed.status();
      claim = *std::move(claimed);
    }
    events::v1::AlertRequested replay =
        ReplayRequest(request->request, claim.replayed_as, claim.replayed_at);
    // A new alert: the reply code in the old text acknowledges the old one, so its line goes.
    transit::AlertPersonalData personal = request->personal;
    if (!request->request.ack_code().empty()) {
      personal.text = sms_acks::WithoutAckInstruction(personal.text, request->request.ack_code());
    }
    if (absl::Status sealed = transit_.SealAlert(personal, replay); !sealed.ok()) {
      return sealed;
    }
    if (claim.claimed || clock_.Now() < FromProto(replay.deadline())) {
      const std::string& topic =
          options_.topics.Request(replay.header().channel(), replay.priority());
      if (absl::Status published = publisher_.Publish(
              {.topic = topic, .key = claim.replayed_as, .value = replay.SerializeAsString()},
              options_.publish_timeout);
          !published.ok()) {
        return absl::UnavailableError(
            absl::StrCat("the replay could not be published to Kafka (", published.message(),
                         "); replay again: it answers with the same alert id ", claim.replayed_as));
      }
    }
    logger_.Info("dead_letter_replayed", {{"alert_id", std::string(alert_id)},
                                          {"caller", std::string(caller)},
                                          {"replayed_by", std::string(replayed_by)},
                                          {"replayed_as", claim.replayed_as},
                                          {"already_replayed", !claim.claimed}});
    return ReplayResult{.alert_id = claim.replayed_as, .already_replayed = !claim.claimed};
  }();
  if (result.ok()) {
    metrics_.Replay(result->already_replayed ? "already_replayed" : "replayed");
  } else {
    metrics_.Replay(absl::AsciiStrToLower(absl::StatusCodeToString(result.status().code())));
  }
  return result;
}

absl::Status DeadLetterQueue::RefreshPending() {
  absl::StatusOr<int64_t> pending = store_.CountPending();
  if (!pending.ok()) return pending.status();
  metrics_.SetPending(*pending);
  return absl::OkStatus();
}

}  // namespace klaxon::audit
