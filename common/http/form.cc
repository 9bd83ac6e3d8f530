#include "common/http/form.h"

#include <algorithm>
#include <cstddef>
#include <optional>

#include "absl/strings/str_cat.h"

namespace klaxon::http {
namespace {

std::optional<int> HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return std::nullopt;
}

// Whether `bytes` is well-formed UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF), the encoding Twilio's parameters are signed in.
bool IsValidUtf8(std::string_view bytes) {
  size_t i = 0;
  while (i < bytes.size()) {
    const auto lead = static_cast<unsigned char>(bytes[i]);
    size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) low = 0xA0;
      if (lead == 0xED) high = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) low = 0x90;
      if (lead == 0xF4) high = 0x8F;
    } else {
      return false;
    }
    if (i + length > bytes.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(bytes[i + k]);
      const unsigned char min = k == 1 ? low : 0x80;
      const unsigned char max = k == 1 ? high : 0xBF;
      if (next < min || next > max) return false;
    }
    i += length;
  }
  return true;
}

// Decodes one key or value; nullopt for a malformed percent escape.
std::optional<std::string> DecodeComponent(std::string_view text) {
  std::string decoded;
  decoded.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      decoded.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const std::optional<int> high = HexValue(text[i + 1]);
      const std::optional<int> low = HexValue(text[i + 2]);
      if (!high || !low) return std::nullopt;
      decoded.push_back(static_cast<char>(*high * 16 + *low));
      i += 2;
    } else {
      decoded.push_back(c);
    }
  }
  return decoded;
}

}  // namespace

absl::StatusOr<FormParams> DecodeForm(std::string_view text) {
  FormParams params;
  size_t position = 0;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = std::min(text.find('&', start), text.size());
    const std::string_view segment = text.substr(start, end - start);
    start = end + 1;
    ++position;
    if (segment.empty()) continue;
    const size_t equals = segment.find('=');
    const std::string_view raw_key = segment.substr(0, equals);
    const std::string_view raw_value =
        equals == std::string_view::npos ? std::string_view() : segment.substr(equals + 1);
    std::optional<std::string> key = DecodeComponent(raw_key);
    std::optional<std::string> value = DecodeComponent(raw_value);
    if (!key || !value) {
      return absl::InvalidArgumentError(absl::StrCat(
          "form field ", position, ": '%' must be followed by two hexadecimal digits"));
    }
    if (key->empty()) {
      return absl::InvalidArgumentError(absl::StrCat("form field ", position, ": empty name"));
    }
    if (!IsValidUtf8(*key) || !IsValidUtf8(*value)) {
      return absl::InvalidArgumentError(absl::StrCat("form field ", position, ": not valid UTF-8"));
    }
    params.emplace_back(*std::move(key), *std::move(value));
  }
  return params;
}

std::string EncodeFormComponent(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  encoded.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      encoded.push_back(c);
    } else {
      encoded.push_back('%');
      encoded.push_back(kHex[byte >> 4]);
      encoded.push_back(kHex[byte & 0x0F]);
    }
  }
  return encoded;
}

std::string EncodeForm(const FormParams& params) {
  std::string form;
  for (const auto& [key, value] : params) {
    if (!form.empty()) form.push_back('&');
    absl::StrAppend(&form, EncodeFormComponent(key), "=", EncodeFormComponent(value));
  }
  return form;
}

}  // namespace klaxon::http
