#include "services/delivery/twilio_outcome.h"

#include "absl/strings/str_cat.h"
#include "common/twilio/error_codes.h"

namespace klaxon::delivery {

bool IsPermanentTwilioCode(int code) {
  switch (code) {
    case 20003:
    case 21211:
    case 21408:
    case 21608:
    case 21610:
    case 21614:
    case 21617:
      return true;
    default:
      return false;
  }
}

bool IsSlowDownTwilioCode(int code) { return code == 21611 || code == 30001; }

std::string DescribeTwilioError(const twilio::TwilioError& error) {
  switch (error.transport) {
    case twilio::Transport::kNotSent:
      return "the request could not be sent to Twilio";
    case twilio::Transport::kUnknown:
      return "no answer from Twilio after the request was sent";
    case twilio::Transport::kAnswered:
      break;
  }
  std::string reason = absl::StrCat("Twilio answered HTTP ", error.http_status);
  if (error.code != 0) absl::StrAppend(&reason, " with error ", error.code);
  if (const std::string_view meaning = twilio::ErrorCodeMeaning(error.code); !meaning.empty()) {
    absl::StrAppend(&reason, ": ", std::string(meaning));
  }
  return reason;
}

SendResult ClassifyTwilioError(const twilio::TwilioError& error) {
  SendResult result{.error_code = error.code,
                    .reason = DescribeTwilioError(error),
                    .retry_after = error.retry_after};
  switch (error.transport) {
    case twilio::Transport::kNotSent:
      result.kind = SendResult::Kind::kRetryable;
      result.account_evidence = SendResult::AccountEvidence::kFailing;
      return result;
    case twilio::Transport::kUnknown:
      result.kind = SendResult::Kind::kUnknown;
      result.account_evidence = SendResult::AccountEvidence::kFailing;
      return result;
    case twilio::Transport::kAnswered:
      break;
  }
  const bool throttled = error.http_status == 429 || error.code == 20429;
  // A throttle says the account is busy, not whether it is healthy.
  result.account_evidence = throttled                  ? SendResult::AccountEvidence::kNone
                            : error.http_status >= 500 ? SendResult::AccountEvidence::kFailing
                                                       : SendResult::AccountEvidence::kAnswered;
  if (IsPermanentTwilioCode(error.code)) {
    result.kind = SendResult::Kind::kRejected;
  } else if (IsSlowDownTwilioCode(error.code)) {
    result.kind = SendResult::Kind::kSlowDown;
  } else if (throttled) {
    result.kind = SendResult::Kind::kThrottled;
    // A 429 whose body did not parse is recorded, counted and dead-lettered as what it means.
    if (result.error_code == 0) result.error_code = 20429;
  } else if (error.http_status >= 500) {
    result.kind = SendResult::Kind::kRetryable;
  } else {
    result.kind = SendResult::Kind::kRejected;
  }
  return result;
}

}  // namespace klaxon::delivery
