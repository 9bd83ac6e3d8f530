// Fuzzes the form codec of common/http/form.h, the first thing ingress runs on a Twilio webhook's
// untrusted body. The input is a form body as received. Checked beyond "does not crash":
//  - a decoded form has one pair per non-empty '&'-separated segment, no empty key, and only
//    valid UTF-8 (judged by an independent decoder below);
//  - DecodeForm(EncodeForm(decoded)) == decoded;
//  - a refused form is kInvalidArgument naming the position of a field that exists;
//  - decoding composes over '&': a form decodes exactly when both sides of its first '&' do, to
//    their concatenation;
//  - '+' and "%20" decode alike;
//  - the input taken as one raw value: EncodeFormComponent writes only unreserved characters and
//    %XX, and "k=" + that decodes back to the value exactly when the value is valid UTF-8.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/numbers.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "common/http/form.h"
#include "tests/fuzz/fuzz_check.h"

namespace klaxon::fuzz {
namespace {

// Decodes code points one by one: a different route to the same verdict as form.cc's checker.
bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    size_t continuation = 0;
    uint32_t code_point = 0;
    if (lead < 0x80) {
      code_point = lead;
    } else if ((lead & 0xE0) == 0xC0) {
      continuation = 1;
      code_point = lead & 0x1Fu;
    } else if ((lead & 0xF0) == 0xE0) {
      continuation = 2;
      code_point = lead & 0x0Fu;
    } else if ((lead & 0xF8) == 0xF0) {
      continuation = 3;
      code_point = lead & 0x07u;
    } else {
      return false;
    }
    if (text.size() - i <= continuation) return false;
    for (size_t k = 1; k <= continuation; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (next & 0x3Fu);
    }
    static constexpr uint32_t kSmallest[] = {0, 0x80, 0x800, 0x10000};
    if (code_point < kSmallest[continuation] || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return false;
    }
    i += continuation + 1;
  }
  return true;
}

size_t NonEmptySegments(std::string_view form) {
  size_t count = 0;
  size_t start = 0;
  while (start <= form.size()) {
    const size_t end = std::min(form.find('&', start), form.size());
    if (end > start) ++count;
    start = end + 1;
  }
  return count;
}

bool IsUpperHex(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }

bool IsUnreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

void CheckDecodedForm(std::string_view form, const http::FormParams& params) {
  Require(params.size() == NonEmptySegments(form), "one pair per non-empty segment");
  for (const auto& [key, value] : params) {
    Require(!key.empty(), "no empty key");
    Require(IsValidUtf8(key) && IsValidUtf8(value), "decoded keys and values are valid UTF-8");
  }
  const absl::StatusOr<http::FormParams> again = http::DecodeForm(http::EncodeForm(params));
  Require(again.ok() && *again == params, "DecodeForm(EncodeForm(decoded)) == decoded");
}

void CheckRefusal(std::string_view form, const absl::Status& status) {
  Require(status.code() == absl::StatusCode::kInvalidArgument, "a refusal is kInvalidArgument");
  absl::string_view message = status.message();
  constexpr absl::string_view kPrefix = "form field ";
  Require(message.substr(0, kPrefix.size()) == kPrefix, "a refusal names the form field");
  message.remove_prefix(kPrefix.size());
  size_t position = 0;
  const size_t colon = message.find(':');
  Require(colon != absl::string_view::npos && absl::SimpleAtoi(message.substr(0, colon), &position),
          "a refusal gives the field's position");
  const size_t fields = static_cast<size_t>(std::count(form.begin(), form.end(), '&')) + 1;
  Require(position >= 1 && position <= fields, "the refused field exists");
}

void CheckComposition(std::string_view form, const absl::StatusOr<http::FormParams>& whole) {
  const size_t ampersand = form.find('&');
  if (ampersand == std::string_view::npos) return;
  const absl::StatusOr<http::FormParams> left = http::DecodeForm(form.substr(0, ampersand));
  const absl::StatusOr<http::FormParams> right = http::DecodeForm(form.substr(ampersand + 1));
  Require(whole.ok() == (left.ok() && right.ok()), "a form decodes iff both sides of '&' do");
  if (!whole.ok()) return;
  http::FormParams joined = *left;
  joined.insert(joined.end(), right->begin(), right->end());
  Require(*whole == joined, "decoding a form is decoding its '&'-separated parts");
}

void CheckPlusIsSpace(std::string_view form, const absl::StatusOr<http::FormParams>& decoded) {
  const absl::StatusOr<http::FormParams> spelled_out = http::DecodeForm(
      absl::StrReplaceAll(absl::string_view(form.data(), form.size()), {{"+", "%20"}}));
  Require(spelled_out.ok() == decoded.ok(), "'+' and %20 are refused alike");
  if (decoded.ok()) Require(*spelled_out == *decoded, "'+' and %20 decode alike");
}

void CheckComponent(std::string_view raw) {
  const std::string encoded = http::EncodeFormComponent(raw);
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] == '%') {
      Require(i + 2 < encoded.size() && IsUpperHex(encoded[i + 1]) && IsUpperHex(encoded[i + 2]),
              "EncodeFormComponent writes %XX with uppercase hex");
      i += 2;
    } else {
      Require(IsUnreserved(encoded[i]), "EncodeFormComponent leaves only unreserved bytes");
    }
  }
  const absl::StatusOr<http::FormParams> decoded = http::DecodeForm("k=" + encoded);
  if (IsValidUtf8(raw)) {
    Require(decoded.ok() && *decoded == http::FormParams{{"k", std::string(raw)}},
            "an encoded UTF-8 value decodes to itself");
  } else {
    Require(!decoded.ok(), "an encoded value that is not UTF-8 is refused");
  }
}

void CheckForm(std::string_view form) {
  const absl::StatusOr<http::FormParams> decoded = http::DecodeForm(form);
  if (decoded.ok()) {
    CheckDecodedForm(form, *decoded);
  } else {
    CheckRefusal(form, decoded.status());
  }
  CheckComposition(form, decoded);
  CheckPlusIsSpace(form, decoded);
  CheckComponent(form);
}

}  // namespace
}  // namespace klaxon::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  klaxon::fuzz::CheckForm(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
