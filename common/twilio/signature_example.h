#pragma once
// The request signature vector every official Twilio library tests (TWILIO.md, X-Twilio-Signature),
// for tests: kUrl and CallParams() signed with kAuthToken give kSignature.

#include "common/twilio/signature.h"

namespace klaxon::twilio::example {

inline constexpr char kAuthToken[] = "12345";
inline constexpr char kUrl[] = "https://mycompany.com/myapp.php?foo=1&bar=2";
inline constexpr char kSignature[] = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";

inline FormParams CallParams() {
  return {{"CallSid", "CA1234567890ABCDE"},
          {"Caller", "+14158675309"},
          {"Digits", "1234"},
          {"From", "+14158675309"},
          {"To", "+18005551212"}};
}

}  // namespace klaxon::twilio::example
