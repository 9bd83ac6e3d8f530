#pragma once
// What Twilio's error codes mean, in words Klaxon can put in an alert's reason and a log line.
// Twilio's own error text is never used for that: it can quote the phone number.

#include <string_view>

namespace klaxon::twilio {

// A short readable meaning of `code`: REST API errors the workers meet (21211, 21610, ...) and
// the delivery errors of status callbacks (30003, 30008, ...). Empty for codes without one.
std::string_view ErrorCodeMeaning(int code);

}  // namespace klaxon::twilio
