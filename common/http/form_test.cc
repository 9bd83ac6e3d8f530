#include "common/http/form.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::http {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

TEST(DecodeFormTest, DecodesPlusAndPercentEscapes) {
  absl::StatusOr<FormParams> params = DecodeForm("To=%2B14155550100&Body=disk+full%21&Empty=");
  ASSERT_TRUE(params.ok()) << params.status();
  EXPECT_THAT(*params, ElementsAre(Pair("To", "+14155550100"), Pair("Body", "disk full!"),
                                   Pair("Empty", "")));
}

TEST(DecodeFormTest, KeepsRepeatedKeysInOrder) {
  absl::StatusOr<FormParams> params = DecodeForm("Digits=5678&Digits=1234&Digits=1234");
  ASSERT_TRUE(params.ok());
  EXPECT_THAT(*params,
              ElementsAre(Pair("Digits", "5678"), Pair("Digits", "1234"), Pair("Digits", "1234")));
}

TEST(DecodeFormTest, SkipsEmptySegmentsAndTakesBareKeysAsEmpty) {
  absl::StatusOr<FormParams> params = DecodeForm("&a=1&&flag&b=x=y&");
  ASSERT_TRUE(params.ok());
  EXPECT_THAT(*params, ElementsAre(Pair("a", "1"), Pair("flag", ""), Pair("b", "x=y")));
}

TEST(DecodeFormTest, EmptyTextIsNoParameters) {
  absl::StatusOr<FormParams> params = DecodeForm("");
  ASSERT_TRUE(params.ok());
  EXPECT_TRUE(params->empty());
}

TEST(DecodeFormTest, DecodesUtf8) {
  absl::StatusOr<FormParams> params = DecodeForm("Body=%C3%A9t%C3%A9+%F0%9F%94%A5");
  ASSERT_TRUE(params.ok());
  EXPECT_THAT(*params, ElementsAre(Pair("Body", "\xC3\xA9t\xC3\xA9 \xF0\x9F\x94\xA5")));
}

TEST(DecodeFormTest, RefusesBrokenPercentEscapes) {
  for (const char* text : {"a=%", "a=%4", "a=%G1", "a=1&b=%zz", "%=1"}) {
    absl::StatusOr<FormParams> params = DecodeForm(text);
    ASSERT_FALSE(params.ok()) << text;
    EXPECT_EQ(params.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(params.status().message(), HasSubstr("hexadecimal")) << text;
  }
}

TEST(DecodeFormTest, NamesThePositionOfTheBadField) {
  absl::StatusOr<FormParams> params = DecodeForm("a=1&b=2&c=%");
  ASSERT_FALSE(params.ok());
  EXPECT_THAT(params.status().message(), HasSubstr("form field 3"));
}

TEST(DecodeFormTest, RefusesEmptyKey) {
  absl::StatusOr<FormParams> params = DecodeForm("=value");
  ASSERT_FALSE(params.ok());
  EXPECT_THAT(params.status().message(), HasSubstr("empty name"));
}

TEST(DecodeFormTest, RefusesInvalidUtf8) {
  // A lone continuation byte, an overlong '/', a UTF-16 surrogate, a truncated sequence and a
  // code point past U+10FFFF.
  for (const char* text :
       {"a=%80", "a=%C0%AF", "a=%ED%A0%80", "a=%E2%82", "a=%F4%90%80%80", "%FF=1"}) {
    absl::StatusOr<FormParams> params = DecodeForm(text);
    ASSERT_FALSE(params.ok()) << text;
    EXPECT_THAT(params.status().message(), HasSubstr("UTF-8")) << text;
  }
}

TEST(EncodeFormTest, EncodesEverythingButUnreserved) {
  EXPECT_EQ(EncodeForm({{"To", "+1 415"}, {"Url", "https://a.b/c?d=e&f"}, {"Ok", "A-z_0.~"}}),
            "To=%2B1%20415&Url=https%3A%2F%2Fa.b%2Fc%3Fd%3De%26f&Ok=A-z_0.~");
}

TEST(EncodeFormTest, RoundTripsThroughDecode) {
  const FormParams original = {{"Body", "caf\xC3\xA9 & +1%"}, {"Empty", ""}, {"K", "v"}};
  absl::StatusOr<FormParams> decoded = DecodeForm(EncodeForm(original));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, original);
}

}  // namespace
}  // namespace klaxon::http
