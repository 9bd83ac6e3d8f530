#include "common/twilio/twiml.h"

#include <gtest/gtest.h>

namespace klaxon::twilio {
namespace {

TEST(XmlEscapeTest, EscapesMarkupAndQuotes) {
  EXPECT_EQ(XmlEscape(R"(<a href="x">Tom & Jerry's</a>)"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&apos;s&lt;/a&gt;");
}

TEST(XmlEscapeTest, ForbiddenControlCharactersBecomeSpacesAndWhitespaceStays) {
  EXPECT_EQ(XmlEscape(std::string("a\x01"
                                  "b\tc\nd\re",
                                  9)),
            "a b\tc\nd\re");
  EXPECT_EQ(XmlEscape("Grüße"), "Grüße");
}

}  // namespace
}  // namespace klaxon::twilio
