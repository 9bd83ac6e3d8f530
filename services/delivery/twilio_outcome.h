#pragma once
// How the workers read Twilio's answers: which errors end an alert, which are worth another try
// and which leave the outcome unknown (../shared/twilio/TWILIO.md, "Errors").

#include "common/twilio/twilio_rest_client.h"
#include "services/delivery/sender.h"

namespace klaxon::delivery {

// True for the Twilio codes that no resend can fix (invalid or unsubscribed recipient, ...).
bool IsPermanentTwilioCode(int code);

// True for the Twilio codes that say the sender's queue is full: the request was not processed and
// the sender must slow down (21611, 30001).
bool IsSlowDownTwilioCode(int code);

// A readable reason for a Twilio error, naming the code and never quoting Twilio's text (which
// can contain the phone number).
std::string DescribeTwilioError(const twilio::TwilioError& error);

SendResult ClassifyTwilioError(const twilio::TwilioError& error);

}  // namespace klaxon::delivery
