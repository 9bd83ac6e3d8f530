#include "common/twilio/error_codes.h"

namespace klaxon::twilio {

std::string_view ErrorCodeMeaning(int code) {
  switch (code) {
    case 20003:
      return "Twilio refused the account credentials";
    case 20429:
      return "too many concurrent requests to Twilio";
    case 21211:
      return "the recipient is not a valid phone number";
    case 21408:
      return "the recipient's region is not enabled on the Twilio account";
    case 21608:
      return "a trial account can only send to verified numbers";
    case 21610:
      return "the recipient has replied STOP and unsubscribed";
    case 21611:
      return "the sender's queue at Twilio is full";
    case 21614:
      return "the recipient is not a mobile number";
    case 21617:
      return "the message body is too long";
    case 30001:
      return "the sender's queue at Twilio overflowed";
    case 30002:
      return "the Twilio account is suspended";
    case 30003:
      return "the destination handset is unreachable";
    case 30004:
      return "the message was blocked by the recipient or the carrier";
    case 30005:
      return "the destination number is unknown to its carrier";
    case 30006:
      return "the destination is a landline or its carrier is unreachable";
    case 30007:
      return "the carrier filtered the message as spam or for its content";
    case 30008:
      return "the carrier reported an unknown delivery error";
    case 30036:
      return "the message waited in the sender's queue at Twilio past its validity period (what "
             "was left of the alert's time to live) and was not sent";
    default:
      return "";
  }
}

}  // namespace klaxon::twilio
