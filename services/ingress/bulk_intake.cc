#include "services/ingress/bulk_intake.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/ingress/send_alert_validation.h"

namespace klaxon::ingress {
namespace {

// Recipients handed to SendAll at once. Each holds an in-flight slot (KLAXON_INTAKE_MAX_IN_FLIGHT)
// from its admission to Kafka's answer, so a slice, not the whole batch, is admitted before any
// of it is published: a bulk of 1,000 never takes a replica's slots from every other caller.
constexpr size_t kBulkSlice = 64;

using alerts::v1::RecipientOutcome;
using alerts::v1::SendAlertRequest;
using alerts::v1::SendAlertsRequest;
using alerts::v1::SendAlertsResponse;

absl::Status ValidateBatch(const SendAlertsRequest& request) {
  if (request.recipients().empty()) {
    return absl::InvalidArgumentError("recipients: at least one is required");
  }
  if (request.recipients_size() > kMaxBulkRecipients) {
    return absl::InvalidArgumentError(absl::StrCat("recipients: at most ", kMaxBulkRecipients,
                                                   " per request, got ",
                                                   request.recipients_size()));
  }
  if (request.idempotency_key().empty()) {
    return absl::InvalidArgumentError("idempotency_key: is required");
  }
  if (request.idempotency_key().size() > kMaxBulkIdempotencyKeyLength ||
      !ValidateIdempotencyKey(request.idempotency_key()).ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("idempotency_key: must be 1 to ", kMaxBulkIdempotencyKeyLength,
                     " printable ASCII characters without spaces for a batch"));
  }
  if (!request.recipient_parameters().empty()) {
    if (!request.has_template_()) {
      return absl::InvalidArgumentError(
          "recipient_parameters: only with template, whose placeholders they fill");
    }
    if (request.recipient_parameters_size() != request.recipients_size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "recipient_parameters: one per recipient or none; got ",
          request.recipient_parameters_size(), " for ", request.recipients_size(), " recipients"));
    }
  }
  return absl::OkStatus();
}

// What every recipient's SendAlert shares: all but the recipient and their own parameters, under
// the batch's key.
SendAlertRequest SharedRequest(const SendAlertsRequest& batch) {
  SendAlertRequest request;
  request.set_channel(batch.channel());
  request.set_text(batch.text());
  request.set_idempotency_key(batch.idempotency_key());
  *request.mutable_metadata() = batch.metadata();
  if (batch.has_ttl()) *request.mutable_ttl() = batch.ttl();
  if (batch.has_voice()) *request.mutable_voice() = batch.voice();
  request.set_ack_by_reply(batch.ack_by_reply());
  if (batch.has_send_at()) *request.mutable_send_at() = batch.send_at();
  request.set_priority(batch.priority());
  request.set_time_zone(batch.time_zone());
  request.set_callback_url(batch.callback_url());
  if (batch.has_template_()) *request.mutable_template_() = batch.template_();
  return request;
}

// Recipient `index`'s own SendAlert.
SendAlertRequest RecipientRequest(const SendAlertsRequest& batch, const SendAlertRequest& shared,
                                  int index) {
  SendAlertRequest request = shared;
  request.set_recipient(batch.recipients(index));
  request.set_idempotency_key(absl::StrCat(batch.idempotency_key(), "/", index));
  if (!batch.recipient_parameters().empty()) {
    for (const auto& [name, value] : batch.recipient_parameters(index).values()) {
      (*request.mutable_template_()->mutable_parameters())[name] = value;
    }
  }
  return request;
}

// Collects the recipients' answers and hands the response to `done` once every recipient has
// answered and the submitting loop has let go (Submitted): a recipient may answer before Send
// returns, and the batch's request must outlive the loop that reads it.
class Collector {
 public:
  Collector(int recipients, BulkDone done)
      : remaining_(recipients + 1),
        done_(std::move(done)),
        requests_(static_cast<size_t>(recipients)) {
    response_.mutable_outcomes()->Reserve(recipients);
    for (int i = 0; i < recipients; ++i) response_.add_outcomes()->set_index(i);
  }

  // The request of recipient `index`, kept here until it has answered.
  SendAlertRequest& Keep(int index, SendAlertRequest request) {
    return requests_[static_cast<size_t>(index)] = std::move(request);
  }

  void Record(int index, const absl::StatusOr<alerts::v1::SendAlertResponse>& sent) {
    {
      std::lock_guard lock(mu_);
      RecipientOutcome& outcome = *response_.mutable_outcomes(index);
      if (sent.ok()) {
        outcome.set_alert_id(sent->alert_id());
        outcome.set_duplicate(sent->duplicate());
        response_.set_accepted(response_.accepted() + 1);
      } else {
        outcome.set_status_code(static_cast<int>(sent.status().code()));
        outcome.set_status_message(std::string(sent.status().message()));
        response_.set_refused(response_.refused() + 1);
      }
    }
    Release();
  }

  // The submitting loop is done with the batch's request.
  void Submitted() { Release(); }

 private:
  void Release() {
    BulkDone finished;
    {
      std::lock_guard lock(mu_);
      if (--remaining_ > 0) return;
      finished = std::move(done_);
    }
    std::move(finished)(std::move(response_));
  }

  std::mutex mu_;
  int remaining_;  // recipients yet to answer, plus one for the submitting loop
  BulkDone done_;
  SendAlertsResponse response_;
  std::vector<SendAlertRequest> requests_;
};

}  // namespace

void BulkIntake::Send(std::string_view caller, std::string_view caller_key,
                      const SendAlertsRequest& request, BulkDone done) {
  if (absl::Status valid = ValidateBatch(request); !valid.ok()) {
    std::move(done)(valid);
    return;
  }
  // Checked once, before it is copied into every recipient's alert: a text or parameters too
  // large for any alert must not be held a thousand times over first.
  const SendAlertRequest shared = SharedRequest(request);
  if (absl::StatusOr<ValidatedAlert> valid = ValidateAllButRecipient(shared, clock_.Now());
      !valid.ok()) {
    std::move(done)(valid.status());
    return;
  }
  const int recipients = request.recipients_size();
  auto collector = std::make_shared<Collector>(recipients, std::move(done));
  std::map<std::string_view, int> first_place;
  std::vector<IntakeCall> slice;
  for (int i = 0; i < recipients; ++i) {
    const auto [earlier, first] = first_place.emplace(request.recipients(i), i);
    if (!first) {
      collector->Record(i, absl::InvalidArgumentError(
                               absl::StrCat("recipients[", i, "]: the same number as recipients[",
                                            earlier->second, "]; each number is paged once")));
      continue;
    }
    slice.push_back({.caller = std::string(caller),
                     .request = &collector->Keep(i, RecipientRequest(request, shared, i)),
                     .submission = {.caller_key = std::string(caller_key)},
                     .done = [collector, i](absl::StatusOr<alerts::v1::SendAlertResponse> sent) {
                       collector->Record(i, sent);
                     }});
    if (slice.size() == kBulkSlice) alerts_.SendAll(std::exchange(slice, {}));
  }
  if (!slice.empty()) alerts_.SendAll(std::move(slice));
  collector->Submitted();
}

}  // namespace klaxon::ingress
