#include "services/ingress/escalation_intake.h"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/alert_lifetime/alert_lifetime.h"
#include "common/ids/uuid.h"
#include "common/phone/phone.h"
#include "common/prototime/prototime.h"

namespace klaxon::ingress {
namespace {

using alerts::v1::EscalationStep;
using alerts::v1::SendAlertRequest;
using alerts::v1::SendAlertResponse;

// One page of the chain: whose step it is and when it is paged, after the chain's start.
struct Page {
  int step_index = 0;  // into the request's escalation
  absl::Duration offset;
};

uint32_t AttemptsOf(const EscalationStep& step) { return std::max(step.attempts(), 1u); }

absl::Duration SpacingOf(const EscalationStep& step) {
  if (!step.has_spacing()) return kDefaultPageSpacing;
  return absl::Seconds(step.spacing().seconds()) + absl::Nanoseconds(step.spacing().nanos());
}

// Every page in the order it is paged; the request is valid.
std::vector<Page> PagesOf(const SendAlertRequest& request) {
  std::vector<Page> pages;
  absl::Duration offset;
  for (int i = 0; i < request.escalation_size(); ++i) {
    const EscalationStep& step = request.escalation(i);
    for (uint32_t k = 0; k < AttemptsOf(step); ++k) {
      pages.push_back({.step_index = i, .offset = offset});
      offset += SpacingOf(step);
    }
  }
  return pages;
}

absl::Status ValidateStep(const EscalationStep& step, int index,
                          std::map<std::string, int>& numbers) {
  const std::string field = absl::StrCat("escalation[", index, "]");
  if (step.recipient().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".recipient: is required"));
  }
  absl::StatusOr<phone::PhoneNumber> number = phone::ValidateE164(step.recipient());
  if (!number.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".recipient: ", number.status().message()));
  }
  if (const auto [earlier, first] = numbers.emplace(number->e164, index); !first) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".recipient: the same number as escalation[", earlier->second,
                     "]; page a number again with its step's attempts"));
  }
  if (step.attempts() > kMaxPagesPerStep) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".attempts: must be 1 to ", kMaxPagesPerStep, "; 0 means 1"));
  }
  const absl::Duration spacing = SpacingOf(step);
  if (step.spacing().nanos() <= -1'000'000'000 || step.spacing().nanos() >= 1'000'000'000 ||
      spacing < kMinPageSpacing || spacing > kMaxPageSpacing) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".spacing: must be between ", absl::FormatDuration(kMinPageSpacing),
                     " and ", absl::FormatDuration(kMaxPageSpacing), "; unset means ",
                     absl::FormatDuration(kDefaultPageSpacing)));
  }
  return absl::OkStatus();
}

// Page `index`'s own SendAlert. The first keeps the caller's request whole (its escalation too,
// so its fingerprint is the chain's); the others are scheduled from `start`.
SendAlertRequest PageRequest(const SendAlertRequest& chain, const Page& page, int index,
                             absl::Time start) {
  SendAlertRequest request = chain;
  request.set_recipient(chain.escalation(page.step_index).recipient());
  // An SMS page says how to acknowledge it; a call asks for a key press, once per page.
  if (chain.channel() == types::v1::CHANNEL_SMS) request.set_ack_by_reply(true);
  if (chain.channel() == types::v1::CHANNEL_VOICE) request.mutable_voice()->set_max_calls(1);
  if (index == 0) return request;
  request.clear_escalation();
  request.set_idempotency_key(absl::StrCat(chain.idempotency_key(), "/p", index));
  *request.mutable_send_at() = prototime::ToProto(start + page.offset);
  return request;
}

// The chain's pages being taken in, until the last has answered.
class ChainIntake {
 public:
  ChainIntake(std::string caller, std::string caller_key, const SendAlertRequest& request,
              SendDone done)
      : caller_(std::move(caller)),
        caller_key_(std::move(caller_key)),
        request_(request),
        pages_(PagesOf(request)),
        requests_(pages_.size()),
        done_(std::move(done)) {}

  const std::string& caller() const { return caller_; }
  const std::string& caller_key() const { return caller_key_; }
  const std::vector<Page>& pages() const { return pages_; }
  uint32_t StepOf(size_t index) const {
    return static_cast<uint32_t>(pages_[index].step_index) + 1;
  }

  // The request of page `index`, kept here until it has answered.
  SendAlertRequest& Keep(size_t index, absl::Time start) {
    return requests_[index] = PageRequest(request_, pages_[index], static_cast<int>(index), start);
  }

  // The first page is durable: its id is the chain's. The rest are awaited from here on, plus one
  // for the loop that submits them (Submitted).
  void Headed(SendAlertResponse head) {
    head_ = std::move(head);
    remaining_ = static_cast<int>(pages_.size());
  }
  const std::string& chain_id() const { return head_.alert_id(); }

  // When the chain starts: send_at, or when its first page was first accepted.
  absl::StatusOr<absl::Time> Start() const {
    absl::StatusOr<absl::Time> accepted = ids::UuidV7Time(chain_id());
    if (!accepted.ok()) return accepted.status();
    if (!request_.has_send_at()) return *accepted;
    return std::max(*accepted, prototime::FromProto(request_.send_at()));
  }

  void Record(size_t index, const absl::StatusOr<SendAlertResponse>& sent) {
    if (!sent.ok()) {
      std::lock_guard lock(mu_);
      if (!refusal_.has_value() || index < refused_page_) {
        refused_page_ = index;
        refusal_ = absl::Status(
            sent.status().code(),
            absl::StrCat("escalation page ", index + 1, " (step ", StepOf(index),
                         ") was not taken in: ", sent.status().message(),
                         "; the chain's other pages are, retry with the same idempotency_key"));
      }
    }
    Release();
  }

  // The submitting loop is done.
  void Submitted() { Release(); }

  // Ends the chain's intake at once (the first page refused, or the pages could not be submitted).
  void Finish(absl::Status status) { std::move(done_)(std::move(status)); }

 private:
  void Release() {
    {
      std::lock_guard lock(mu_);
      if (--remaining_ > 0) return;
    }
    if (refusal_.has_value()) return Finish(*std::move(refusal_));
    std::move(done_)(head_);
  }

  const std::string caller_;
  const std::string caller_key_;
  const SendAlertRequest& request_;
  const std::vector<Page> pages_;
  std::vector<SendAlertRequest> requests_;
  SendDone done_;
  SendAlertResponse head_;
  std::mutex mu_;
  int remaining_ = 0;  // pages after the first yet to answer, plus one for the submitting loop
  std::optional<absl::Status> refusal_;  // the refusal of the earliest page refused
  size_t refused_page_ = 0;
};

// Takes in the pages after the first, the chain's id known.
void SendRest(AlertSubmitter& alerts, const std::shared_ptr<ChainIntake>& chain) {
  absl::StatusOr<absl::Time> start = chain->Start();
  if (!start.ok()) {
    return chain->Finish(absl::InternalError(
        absl::StrCat("the escalation's id is not a UUIDv7, so its pages cannot be scheduled: ",
                     start.status().message())));
  }
  for (size_t i = 1; i < chain->pages().size(); ++i) {
    alerts.Send(chain->caller(), chain->Keep(i, *start),
                {.escalation_step = chain->StepOf(i),
                 .escalation_id = chain->chain_id(),
                 .caller_key = chain->caller_key()},
                [chain, i](absl::StatusOr<SendAlertResponse> sent) { chain->Record(i, sent); });
  }
  chain->Submitted();
}

}  // namespace

absl::Status ValidateEscalation(const SendAlertRequest& request, absl::Time now) {
  if (!request.recipient().empty()) {
    return absl::InvalidArgumentError(
        "recipient: must be empty when escalation names the recipients");
  }
  if (request.escalation_size() > kMaxEscalationSteps) {
    return absl::InvalidArgumentError(absl::StrCat("escalation: at most ", kMaxEscalationSteps,
                                                   " steps, got ", request.escalation_size()));
  }
  std::map<std::string, int> numbers;
  for (int i = 0; i < request.escalation_size(); ++i) {
    if (absl::Status valid = ValidateStep(request.escalation(i), i, numbers); !valid.ok()) {
      return valid;
    }
  }
  const std::vector<Page> pages = PagesOf(request);
  if (pages.size() > kMaxEscalationPages) {
    return absl::InvalidArgumentError(absl::StrCat("escalation: at most ", kMaxEscalationPages,
                                                   " pages in all (the steps' attempts), got ",
                                                   pages.size()));
  }
  // Where the last page falls; send_at's own checks (a timestamp, not too far ahead) are the
  // first page's.
  if (request.has_send_at() && !pages.empty()) {
    const absl::Time start = std::max(now, prototime::FromProto(request.send_at()));
    const absl::Time last_page = start + pages.back().offset;
    if (start - now <= alert_lifetime::kMaxScheduleAhead &&
        last_page - now > alert_lifetime::kMaxScheduleAhead) {
      return absl::InvalidArgumentError(absl::StrCat(
          "send_at: the escalation's last page would come ", absl::FormatDuration(last_page - now),
          " from now, and pages may be scheduled at most ",
          absl::FormatDuration(alert_lifetime::kMaxScheduleAhead),
          " ahead; move send_at earlier or shorten the chain"));
    }
  }
  if (request.idempotency_key().size() > kMaxEscalationIdempotencyKeyLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("idempotency_key: must be 1 to ", kMaxEscalationIdempotencyKeyLength,
                     " printable ASCII characters without spaces for an escalation"));
  }
  const types::v1::VoicePolicy& voice = request.voice();
  if (voice.max_calls() > 1) {
    return absl::InvalidArgumentError(
        "voice.max_calls: each page of an escalation is one call; page a step again with its "
        "attempts");
  }
  if (voice.sms_fallback()) {
    return absl::InvalidArgumentError(
        "voice.sms_fallback: an escalation pages its next step instead; leave it unset");
  }
  if (voice.read_only()) {
    return absl::InvalidArgumentError(
        "voice.read_only: an escalation's calls ask for a key press to acknowledge; leave it "
        "unset");
  }
  return absl::OkStatus();
}

void EscalationIntake::Send(std::string_view caller, std::string_view caller_key,
                            const SendAlertRequest& request, SendDone done) {
  if (absl::Status valid = ValidateEscalation(request, clock_.Now()); !valid.ok()) {
    return std::move(done)(std::move(valid));
  }
  auto chain = std::make_shared<ChainIntake>(std::string(caller), std::string(caller_key), request,
                                             std::move(done));
  SendAlertRequest& head = chain->Keep(0, absl::InfinitePast());
  alerts_.Send(caller, head,
               {.escalation_step = 1,
                .chain_span = chain->pages().back().offset,
                .caller_key = std::string(caller_key)},
               [this, chain](absl::StatusOr<SendAlertResponse> sent) {
                 if (!sent.ok()) return chain->Finish(sent.status());
                 chain->Headed(*std::move(sent));
                 const bool queued =
                     continuation_.Submit([this, chain] { SendRest(alerts_, chain); });
                 if (!queued) {
                   chain->Finish(absl::UnavailableError(
                       "ingress is too busy to take in the escalation's other pages; retry with "
                       "the same idempotency_key"));
                 }
               });
}

}  // namespace klaxon::ingress
