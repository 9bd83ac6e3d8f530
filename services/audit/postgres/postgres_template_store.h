#pragma once
// The TemplateStore adapter for Postgres: tables templates and template_defaults (schema:
// services/audit/postgres/migrations/0008_templates.sql, ADR 0030). Create() runs one
// transaction: it upserts the name's default locale first, which locks that row (or, for a name
// not stored yet, makes a concurrent first create wait on its primary key) until commit, so
// concurrent creates of one name take turns and each reads the version the previous one
// committed; then it inserts the next version. List() and Latest() are one statement each.
// created_at is the database's transaction time.

#include "common/pg/database.h"
#include "services/audit/templates/template_store.h"

namespace klaxon::audit {

class PostgresTemplateStore final : public TemplateStore {
 public:
  // `db` is borrowed and must outlive the store.
  explicit PostgresTemplateStore(pg::Database& db) : db_(db) {}

  absl::StatusOr<MessageTemplate> Create(std::string_view caller,
                                         const MessageTemplate& created) override;
  absl::StatusOr<std::vector<MessageTemplate>> List(std::string_view caller,
                                                    std::string_view name) override;
  absl::StatusOr<std::optional<MessageTemplate>> Latest(std::string_view caller,
                                                        std::string_view name,
                                                        std::string_view locale) override;

 private:
  pg::Database& db_;
};

}  // namespace klaxon::audit
