#include "services/ingress/verification/verifier.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/hmac.h"
#include "common/grpcutil/grpcutil.h"
#include "common/ids/uuid.h"
#include "common/phone/phone.h"
#include "common/prototime/prototime.h"
#include "common/twilio/price.h"
#include "common/twilio/segments.h"
#include "services/ingress/verification/per_caller.h"
#include "services/ingress/verification/verification_text.h"

namespace klaxon::ingress::verification {

using verify::v1::CheckVerificationRequest;
using verify::v1::CheckVerificationResponse;
using verify::v1::VerificationStatus;

namespace {

// The metadata key that ties a code's alert to its verification (an id, never personal data).
constexpr char kVerificationIdKey[] = "verification_id";

absl::Status CheckCodeForm(std::string_view code, int length) {
  if (code.size() != static_cast<size_t>(length) ||
      !std::all_of(code.begin(), code.end(),
                   [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); })) {
    return absl::InvalidArgumentError(absl::StrCat("code: must be ", length, " digits"));
  }
  return absl::OkStatus();
}

}  // namespace

Verifier::Verifier(VerifierOptions options, VerifierPorts ports)
    : options_(std::move(options)), ports_(ports) {}

std::string Verifier::Digest(std::string_view domain, std::string_view text) const {
  return absl::BytesToHexString(crypto::HmacSha256(
      options_.digest_key, absl::StrCat(std::string(domain), std::string(text))));
}

std::string Verifier::RecipientIndex(std::string_view e164) const {
  return Digest("verification-recipient:", e164);
}

absl::Status Verifier::TakeStart(std::string_view caller, std::string_view e164,
                                 const std::string& recipient_index, std::string_view member) {
  // Each limit's refusal: what it limits and the setting that sets it.
  struct Named {
    StartRefusal refusal;
    std::string what;
    std::string_view variable;
  };
  std::vector<KeyedRates> limits;
  std::vector<Named> names;
  if (const limits::Rate* caller_rate = ForCaller(options_.caller_starts, caller)) {
    limits.push_back(
        {.key = absl::StrCat("caller:", std::string(caller)), .rates = {*caller_rate}});
    names.push_back({.refusal = StartRefusal::kCallerLimit,
                     .what = absl::StrCat("caller ", std::string(caller)),
                     .variable = "KLAXON_VERIFY_CALLER_LIMITS"});
  }
  // The range keyed like the recipient: not even part of a number in clear in Redis.
  const std::string_view range = e164.substr(0, static_cast<size_t>(1 + options_.prefix_digits));
  limits.push_back({.key = absl::StrCat("prefix:", Digest("verification-prefix:", range)),
                    .rates = options_.prefix_starts});
  names.push_back({.refusal = StartRefusal::kPrefixLimit,
                   .what = "the recipient's number range",
                   .variable = "KLAXON_VERIFY_PREFIX_LIMITS"});
  limits.push_back(
      {.key = absl::StrCat("recipient:", recipient_index), .rates = options_.recipient_starts});
  names.push_back({.refusal = StartRefusal::kRecipientLimit,
                   .what = "recipient",
                   .variable = "KLAXON_VERIFY_RECIPIENT_LIMITS"});
  absl::StatusOr<std::optional<FullWindow>> full = ports_.limiter.Take(limits, member);
  if (!full.ok()) return full.status();
  if (!full->has_value()) return absl::OkStatus();
  const Named& named = names.at((*full)->limit);
  ports_.observer.OnRefused(named.refusal);
  const absl::Duration retry_after = absl::Ceil((*full)->retry_after, absl::Seconds(1));
  return grpcutil::WithRetryPushback(
      absl::ResourceExhaustedError(absl::StrCat(
          named.what, " is over its limit of ", (*full)->rate.Describe("verifications"), " (",
          std::string(named.variable), "); it resets in ", absl::FormatDuration(retry_after))),
      retry_after);
}

absl::Status Verifier::Spend(std::string_view caller, types::v1::Channel channel,
                             std::string_view text, absl::Time now) {
  const Micros* cap = ForCaller(options_.spend.daily_caps, caller);
  if (cap == nullptr) return absl::OkStatus();
  const auto price = options_.spend.prices.find(channel);
  const Micros each = price == options_.spend.prices.end() ? 0 : price->second;
  // Twilio bills an SMS per segment, a call per call.
  const int segments = channel == types::v1::CHANNEL_SMS ? twilio::SmsSegments(text) : 1;
  const Micros amount = each * segments;
  const absl::CivilDay today = absl::ToCivilDay(now, absl::UTCTimeZone());
  const absl::Time day_ends = absl::FromCivil(today + 1, absl::UTCTimeZone());
  absl::StatusOr<bool> spent = ports_.spend.Spend(
      absl::StrCat(std::string(caller), ":", absl::FormatCivilTime(today)), amount, *cap, day_ends);
  if (!spent.ok()) return spent.status();
  if (*spent) return absl::OkStatus();
  ports_.observer.OnRefused(StartRefusal::kDailySpend);
  return grpcutil::WithRetryPushback(
      absl::ResourceExhaustedError(absl::StrCat(
          "caller ", std::string(caller), " has reached its daily verification spend of ",
          twilio::FormatMicros(*cap), " (KLAXON_VERIFY_DAILY_SPEND; a ",
          channel == types::v1::CHANNEL_VOICE ? "call" : "message", " costs ",
          twilio::FormatMicros(amount),
          segments > 1 ? absl::StrCat(" for its ", segments, " segments") : "",
          " by KLAXON_VERIFY_PRICES); it resets at ",
          absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", day_ends, absl::UTCTimeZone()))),
      absl::Ceil(day_ends - now, absl::Seconds(1)));
}

absl::StatusOr<Verification> Verifier::Fresh(const std::string& id, std::string_view caller,
                                             const std::string& recipient_index,
                                             types::v1::Channel channel, absl::Time now,
                                             std::string& code) {
  absl::StatusOr<std::string> minted = ports_.codes.Mint(options_.code_length);
  if (!minted.ok()) return minted.status();
  code = *std::move(minted);
  Verification fresh{.id = id,
                     .caller = std::string(caller),
                     .recipient_index = recipient_index,
                     .channel = channel,
                     .created_at = now,
                     .expires_at = now + options_.code_validity,
                     .forget_at = now + options_.code_validity + options_.kept_after_expiry};
  fresh.code_digest = CodeDigest(options_.digest_key, fresh.id, code);
  events::v1::SealedFields sealed;
  if (absl::Status status = ports_.transit.SealCode(fresh.id, code, sealed); !status.ok()) {
    return status;
  }
  fresh.sealed_code = sealed.SerializeAsString();
  return fresh;
}

void Verifier::Start(std::string_view caller, const verify::v1::StartVerificationRequest& request,
                     StartDone done) {
  auto refuse = [&done](absl::Status status) { std::move(done)(std::move(status)); };
  absl::StatusOr<phone::PhoneNumber> recipient = phone::ValidateE164(request.recipient());
  if (!recipient.ok()) {
    return refuse(
        absl::InvalidArgumentError(absl::StrCat("recipient: ", recipient.status().message())));
  }
  const types::v1::Channel channel = request.channel();
  if (channel != types::v1::CHANNEL_SMS && channel != types::v1::CHANNEL_VOICE) {
    return refuse(absl::InvalidArgumentError("channel: must be CHANNEL_SMS or CHANNEL_VOICE"));
  }
  // Checked now, so bad wording costs neither a start nor a code.
  const CodeWording wording{.locale = request.locale(), .caller_template = request.template_()};
  if (absl::Status checked = CheckWording(wording); !checked.ok()) {
    return refuse(checked);
  }
  if (absl::Status allowed = options_.regions.Check(caller, recipient->e164); !allowed.ok()) {
    ports_.observer.OnRefused(StartRefusal::kRegion);
    return refuse(std::move(allowed));
  }

  const absl::Time now = ports_.clock.Now();
  const std::string recipient_index = RecipientIndex(recipient->e164);
  // The id a new verification would have also names this start in the limits' windows.
  const std::string id = ports_.ids.Next();
  if (absl::Status taken = TakeStart(caller, recipient->e164, recipient_index, id); !taken.ok()) {
    return refuse(std::move(taken));
  }
  std::string code;
  absl::StatusOr<Verification> fresh = Fresh(id, caller, recipient_index, channel, now, code);
  if (!fresh.ok()) return refuse(fresh.status());
  // The alert that will carry this send is named in the verification before it is sent, so a
  // check, however soon, is filed in its trail.
  fresh->alert_id = ports_.ids.Next();
  absl::StatusOr<StartedSend> started = ports_.store.StartOrResend(*fresh, now);
  if (!started.ok()) return refuse(started.status());
  const Verification* kept = &started->verification;
  const bool resent = kept->id != fresh->id;
  // A refusal from here on puts back the alert the verification named before: this send's
  // never exists.
  auto unsent = [&](absl::Status status) {
    ReplaceAlert(std::string(caller), kept->id, kept->alert_id, started->previous_alert_id);
    refuse(std::move(status));
  };
  // Its code would only ever answer MAX_ATTEMPTS: sending it again helps nobody.
  if (resent && kept->checks >= options_.max_checks) {
    return unsent(absl::FailedPreconditionError(absl::StrCat(
        "the recipient's pending verification ", kept->id,
        " has no checks left; a new one can start once it expires at ",
        absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", kept->expires_at, absl::UTCTimeZone()))));
  }
  if (resent) {
    events::v1::SealedFields sealed;
    if (!sealed.ParseFromString(kept->sealed_code)) {
      return unsent(absl::DataLossError(
          absl::StrCat("the sealed code of verification ", kept->id, " does not parse")));
    }
    absl::StatusOr<std::string> opened = ports_.transit.OpenCode(kept->id, sealed);
    if (!opened.ok()) return unsent(opened.status());
    code = *std::move(opened);
  }

  // The alert lives on the heap until the intake answers: it must outlive `done`'s call.
  auto alert = std::make_unique<alerts::v1::SendAlertRequest>();
  alert->set_channel(channel);
  alert->set_recipient(recipient->e164);
  absl::StatusOr<std::string> text = CodeMessage(channel, wording, code, options_.webotp_domain);
  if (!text.ok()) return unsent(text.status());
  if (absl::Status spent = Spend(caller, channel, *text, now); !spent.ok()) {
    return unsent(std::move(spent));
  }
  alert->set_text(*std::move(text));
  // Each send of the code is its own alert: every Start that resends sends again, a retried
  // StartVerification included (its answer may have been lost after the send was durable).
  alert->set_idempotency_key(absl::StrCat("verification:", kept->id, ":", kept->sends));
  (*alert->mutable_metadata())[kVerificationIdKey] = kept->id;
  // The code's message is worth sending only while the code is: whole seconds, at least one.
  alert->mutable_ttl()->set_seconds(
      std::max<int64_t>(1, absl::ToInt64Seconds(kept->expires_at - now)));
  if (channel == types::v1::CHANNEL_VOICE) {
    // One call in the locale's language that only reads the code: nothing to acknowledge.
    types::v1::VoicePolicy& call = *alert->mutable_voice();
    call.set_max_calls(1);
    call.set_language(CallLanguage(wording.locale));
    call.set_read_only(true);
  }

  verify::v1::StartVerificationResponse response;
  response.set_verification_id(kept->id);
  *response.mutable_expires_at() = prototime::ToProto(kept->expires_at);
  response.set_resent(resent);
  const alerts::v1::SendAlertRequest& sent = *alert;
  ports_.alerts.Send(
      caller, sent, {.alert_id = kept->alert_id, .awaited_by_recipient = true},
      [this, caller = std::string(caller), channel, resent, response = std::move(response),
       named = kept->alert_id, previous = started->previous_alert_id, alert = std::move(alert),
       done = std::move(done)](absl::StatusOr<alerts::v1::SendAlertResponse> answer) mutable {
        if (!answer.ok()) {
          ReplaceAlert(std::move(caller), response.verification_id(), named, previous);
          return std::move(done)(answer.status());
        }
        ports_.observer.OnStarted(channel, resent);
        // The intake answers with another id only for a repeat of an idempotency key it had
        // already taken: that alert is the one carrying the code.
        if (answer->alert_id() != named) {
          ReplaceAlert(caller, response.verification_id(), named, answer->alert_id());
        }
        response.set_alert_id(answer->alert_id());
        std::move(done)(std::move(response));
      });
}

absl::StatusOr<std::optional<std::string>> Verifier::Resolve(
    std::string_view caller, const CheckVerificationRequest& request) {
  const bool by_id = !request.verification_id().empty();
  if (by_id == !request.recipient().empty()) {
    return absl::InvalidArgumentError("give exactly one of verification_id and recipient");
  }
  if (by_id) {
    if (!ids::IsUuid(request.verification_id())) {
      return absl::InvalidArgumentError("verification_id: is not a verification id (a UUID)");
    }
    return std::optional<std::string>(request.verification_id());
  }
  absl::StatusOr<phone::PhoneNumber> recipient = phone::ValidateE164(request.recipient());
  if (!recipient.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("recipient: ", recipient.status().message()));
  }
  return ports_.store.FindPending(caller, RecipientIndex(recipient->e164));
}

void Verifier::ReplaceAlert(std::string caller, std::string id, std::string from, std::string to) {
  auto replace = [&store = ports_.store, caller = std::move(caller), id = std::move(id),
                  from = std::move(from),
                  to = std::move(to)] { (void)store.ReplaceAlert(caller, id, from, to); };
  if (options_.note_executor == nullptr) return replace();
  (void)options_.note_executor->Submit(std::move(replace));
}

absl::StatusOr<CheckVerificationResponse> Verifier::Answer(
    VerificationStatus status, const Verification* verification,
    std::optional<absl::Duration> time_to_approve) {
  ports_.observer.OnChecked(status, time_to_approve);
  CheckVerificationResponse response;
  response.set_status(status);
  if (verification != nullptr) {
    response.set_verification_id(verification->id);
    response.set_checks_left(std::max(0, options_.max_checks - verification->checks));
    events::v1::DeliveryEvent event;
    events::v1::VerificationChecked& checked = *event.mutable_verification_checked();
    checked.set_verification_id(verification->id);
    checked.set_result(status);
    checked.set_checks_left(response.checks_left());
    Record(*verification, std::move(event));
  }
  return response;
}

void Verifier::Record(const Verification& verification, events::v1::DeliveryEvent event) {
  if (verification.alert_id.empty()) {
    return ports_.observer.OnCheckUnrecorded(absl::FailedPreconditionError(absl::StrCat(
        "verification ", verification.id, " names no alert to record its checks under")));
  }
  events::v1::EventHeader& header = *event.mutable_header();
  header.set_alert_id(verification.alert_id);
  header.set_caller(verification.caller);
  header.set_channel(verification.channel);
  header.set_attempt(1);
  *header.mutable_occurred_at() = prototime::ToProto(ports_.clock.Now());
  // The answer does not wait for the record: the check or cancel has happened, in Redis, either
  // way.
  ports_.publisher.PublishAsync({.topic = options_.events_topic,
                                 .key = verification.alert_id,
                                 .value = event.SerializeAsString()},
                                [&observer = ports_.observer](absl::Status published) {
                                  if (!published.ok()) observer.OnCheckUnrecorded(published);
                                });
}

absl::StatusOr<CheckVerificationResponse> Verifier::Check(std::string_view caller,
                                                          const CheckVerificationRequest& request) {
  if (absl::Status form = CheckCodeForm(request.code(), options_.code_length); !form.ok()) {
    return form;
  }
  absl::StatusOr<std::optional<std::string>> id = Resolve(caller, request);
  if (!id.ok()) return id.status();
  if (!id->has_value()) return Answer(verify::v1::VERIFICATION_STATUS_NOT_FOUND, nullptr);
  const absl::Time now = ports_.clock.Now();
  absl::StatusOr<std::optional<CountedCheck>> check =
      ports_.store.CountCheck(caller, **id, options_.max_checks, now);
  if (!check.ok()) return check.status();
  if (!check->has_value()) return Answer(verify::v1::VERIFICATION_STATUS_NOT_FOUND, nullptr);
  const Verification& verification = (*check)->verification;
  // An approved code is never used again, and a cancelled one never checks.
  if (verification.state != VerificationState::kPending) {
    return Answer(verify::v1::VERIFICATION_STATUS_NOT_FOUND, nullptr);
  }
  if (now >= verification.expires_at) {
    return Answer(verify::v1::VERIFICATION_STATUS_EXPIRED, &verification);
  }
  if (!(*check)->counted) {
    return Answer(verify::v1::VERIFICATION_STATUS_MAX_ATTEMPTS, &verification);
  }
  if (!CodeMatches(options_.digest_key, verification.id, request.code(),
                   verification.code_digest)) {
    return Answer(verification.checks >= options_.max_checks
                      ? verify::v1::VERIFICATION_STATUS_MAX_ATTEMPTS
                      : verify::v1::VERIFICATION_STATUS_PENDING,
                  &verification);
  }
  absl::StatusOr<bool> approved =
      ports_.store.Finish(caller, verification.id, VerificationState::kApproved);
  if (!approved.ok()) return approved.status();
  // Of two concurrent right checks, only the first approves.
  if (!*approved) return Answer(verify::v1::VERIFICATION_STATUS_NOT_FOUND, nullptr);
  return Answer(verify::v1::VERIFICATION_STATUS_APPROVED, &verification,
                now - verification.created_at);
}

absl::StatusOr<verify::v1::CancelVerificationResponse> Verifier::Cancel(
    std::string_view caller, const verify::v1::CancelVerificationRequest& request) {
  const std::string& id = request.verification_id();
  if (!ids::IsUuid(id)) {
    return absl::InvalidArgumentError("verification_id: is not a verification id (a UUID)");
  }
  absl::StatusOr<std::optional<Verification>> found = ports_.store.Find(caller, id);
  if (!found.ok()) return found.status();
  if (!found->has_value())
    return absl::NotFoundError(absl::StrCat("verification ", id, " not found"));
  verify::v1::CancelVerificationResponse response;
  // One already approved, cancelled or expired has ended; cancelling it changes nothing.
  bool cancelled = false;
  if ((*found)->state == VerificationState::kPending && ports_.clock.Now() < (*found)->expires_at) {
    absl::StatusOr<bool> finished = ports_.store.Finish(caller, id, VerificationState::kCancelled);
    if (!finished.ok()) return finished.status();
    cancelled = *finished;
  }
  if (cancelled) {
    events::v1::DeliveryEvent event;
    event.mutable_verification_cancelled()->set_verification_id(id);
    Record(**found, std::move(event));
  }
  response.set_already_ended(!cancelled);
  return response;
}

}  // namespace klaxon::ingress::verification
