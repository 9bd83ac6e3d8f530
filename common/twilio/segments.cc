#include "common/twilio/segments.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace klaxon::twilio {
namespace {

// GSM 03.38's basic alphabet beyond printable ASCII (which it holds but for '`').
constexpr std::array<char32_t, 39> kBasicBeyondAscii = {
    U'£', U'¥', U'è', U'é', U'ù', U'ì', U'ò', U'Ç', U'Ø', U'ø', U'Å', U'å', U'Δ',
    U'Φ', U'Γ', U'Λ', U'Ω', U'Π', U'Ψ', U'Σ', U'Θ', U'Ξ', U'Æ', U'æ', U'ß', U'É',
    U'¤', U'¡', U'Ä', U'Ö', U'Ñ', U'Ü', U'§', U'¿', U'ä', U'ö', U'ñ', U'ü', U'à'};
// Sent as an escape and the character: two septets each.
constexpr std::array<char32_t, 10> kExtension = {U'^', U'{', U'}', U'\\', U'[',
                                                 U']', U'~', U'|', U'€',  U'\f'};

constexpr char32_t kNotUtf8 = 0xFFFD;

template <size_t N>
bool In(const std::array<char32_t, N>& set, char32_t c) {
  return std::find(set.begin(), set.end(), c) != set.end();
}

// Septets `c` takes in GSM-7, or 0 when GSM-7 cannot carry it.
int Septets(char32_t c) {
  if (In(kExtension, c)) return 2;
  if (c == U'\n' || c == U'\r' || (c >= 0x20 && c < 0x7F && c != U'`')) return 1;
  return In(kBasicBeyondAscii, c) ? 1 : 0;
}

// The code points of `text`; each byte of a malformed sequence is kNotUtf8.
std::vector<char32_t> CodePoints(std::string_view text) {
  std::vector<char32_t> points;
  for (size_t i = 0; i < text.size();) {
    const auto lead = static_cast<uint8_t>(text[i]);
    const size_t width = lead < 0x80           ? 1
                         : (lead >> 5) == 0x6  ? 2
                         : (lead >> 4) == 0xE  ? 3
                         : (lead >> 3) == 0x1E ? 4
                                               : 0;
    char32_t point = width == 1   ? lead
                     : width == 2 ? lead & 0x1F
                     : width == 3 ? lead & 0x0F
                                  : lead & 0x07;
    bool valid = width != 0 && i + width <= text.size();
    for (size_t k = 1; valid && k < width; ++k) {
      const auto next = static_cast<uint8_t>(text[i + k]);
      valid = (next >> 6) == 0x2;
      point = (point << 6) | (next & 0x3F);
    }
    points.push_back(valid ? point : kNotUtf8);
    i += valid ? width : 1;
  }
  return points;
}

int SegmentsOf(size_t units, size_t single, size_t each) {
  if (units <= single) return 1;
  return static_cast<int>((units + each - 1) / each);
}

}  // namespace

int SmsSegments(std::string_view utf8_body) {
  const std::vector<char32_t> points = CodePoints(utf8_body);
  size_t septets = 0;
  bool gsm = true;
  for (const char32_t c : points) {
    const int taken = Septets(c);
    if (taken == 0) {
      gsm = false;
      break;
    }
    septets += static_cast<size_t>(taken);
  }
  if (gsm) return SegmentsOf(septets, 160, 153);
  // UTF-16: a character beyond the Basic Multilingual Plane (an emoji) is a surrogate pair.
  const size_t units =
      points.size() + static_cast<size_t>(std::count_if(points.begin(), points.end(),
                                                        [](char32_t c) { return c > 0xFFFF; }));
  return SegmentsOf(units, 70, 67);
}

}  // namespace klaxon::twilio
