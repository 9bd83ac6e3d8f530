#pragma once
// Text inside TwiML, the XML Twilio reads for calls and replies.

#include <string>
#include <string_view>

namespace klaxon::twilio {

// `text` escaped for an XML element or attribute. XML 1.0 forbids control characters other than
// tab, newline and carriage return, and one would make Twilio refuse the whole document, so each
// becomes a space.
std::string XmlEscape(std::string_view text);

}  // namespace klaxon::twilio
