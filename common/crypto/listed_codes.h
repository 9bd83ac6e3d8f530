#pragma once
// A CodeSource for tests: hands out the codes it is given, in order, so a test knows the code it
// expects; kInternal when they run out or one has another length than asked.

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/crypto/digit_codes.h"

namespace klaxon::crypto {

class ListedCodes final : public CodeSource {
 public:
  explicit ListedCodes(std::vector<std::string> codes = {}) : codes_(std::move(codes)) {}

  // Starts over with `codes`.
  void Set(std::vector<std::string> codes) {
    codes_ = std::move(codes);
    next_ = 0;
  }

  absl::StatusOr<std::string> Mint(int length) override {
    if (next_ == codes_.size()) return absl::InternalError("ListedCodes: no code left");
    std::string code = codes_[next_++];
    if (code.size() != static_cast<size_t>(length)) {
      return absl::InternalError(
          absl::StrCat("ListedCodes: ", code, " is not ", length, " digits long"));
    }
    return code;
  }

 private:
  std::vector<std::string> codes_;
  size_t next_ = 0;
};

}  // namespace klaxon::crypto
