#pragma once
// The port behind CreateTemplate, ListTemplates and RenderTemplate (ADR 0030): each caller's
// message templates, versioned per name and locale, with each name's default locale. Adapters:
// PostgresTemplateStore (services/audit/postgres), FakeTemplateStore (services/audit/testing).
// A caller only ever reaches its own templates: another caller's name is unknown.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "services/audit/templates/message_template.h"

namespace klaxon::audit {

// What one caller may keep (ADR 0030): templates (a name in a locale), and versions of each.
// Without them a caller creating in a loop grew storage, and ListTemplates' answer, for ever.
inline constexpr size_t kMaxTemplatesPerCaller = 200;
inline constexpr size_t kMaxVersionsPerTemplate = 100;

// The refusals of a create past those limits.
inline absl::Status TooManyTemplates() {
  return absl::FailedPreconditionError(absl::StrCat(
      "template: you keep ", kMaxTemplatesPerCaller,
      " templates (names in locales), the most one caller may; create versions of those instead"));
}
inline absl::Status TooManyVersions(std::string_view name, std::string_view locale) {
  return absl::FailedPreconditionError(
      absl::StrCat("template: ", std::string(name), " (", std::string(locale), ") has ",
                   kMaxVersionsPerTemplate, " versions, the most kept of one template"));
}

class TemplateStore {
 public:
  virtual ~TemplateStore() = default;

  // Stores `created` (validated by the caller) as the next version of `caller`'s (name, locale):
  // 1 for a new one, else the latest plus one, also when several creates of one name race. The
  // name's first locale becomes its default, and so does any locale created with
  // default_locale. Returns the stored template: version, created_at and default_locale set.
  // kFailedPrecondition (TooManyTemplates, TooManyVersions) when it would be more than the
  // caller may keep, however creates race. kUnavailable when the database is unreachable
  // (retry).
  virtual absl::StatusOr<MessageTemplate> Create(std::string_view caller,
                                                 const MessageTemplate& created) = 0;

  // The latest version of each of `caller`'s (name, locale), ordered by name then locale
  // (bytewise); only `name`'s locales when it is not empty. kUnavailable as for Create.
  virtual absl::StatusOr<std::vector<MessageTemplate>> List(std::string_view caller,
                                                            std::string_view name) = 0;

  // The latest version of `caller`'s `name` in `locale`; in the name's default locale when
  // `locale` is empty or the name has no version in it. nullopt for a name `caller` never
  // created. kUnavailable as for Create.
  virtual absl::StatusOr<std::optional<MessageTemplate>> Latest(std::string_view caller,
                                                                std::string_view name,
                                                                std::string_view locale) = 0;
};

}  // namespace klaxon::audit
